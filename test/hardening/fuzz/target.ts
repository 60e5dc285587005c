// Fuzzing (fuzz.test.ts): the app under test, and the two identities (a user, a superuser)
// whose live tokens the generated requests carry, kept alive between batches.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import { type AppOptions, startApp, type TestApp } from "../../support/app.js";
import { Client, type Outgoing } from "../../support/client.js";
import { BACKENDS, login, PASSWORD } from "../support.js";

/** Requests in flight at once. */
export const CONCURRENCY = 8;

/** A registered user, logged in on every backend. */
interface Identity {
  id: string;
  email: string;
  tokens: Record<string, string>;
  csrf: string;
}

/**
 * One test app on one store, fuzzed by the tests of a `describe`: filled in by
 * {@link fuzzTarget}'s `beforeAll`, so read its fields inside tests only.
 */
export class FuzzTarget {
  app!: TestApp;
  client!: Client;
  readonly identities: { user?: Identity; admin?: Identity } = {};
  /** What the app emitted as `error` events: each is a 500 somewhere. */
  readonly errors: unknown[] = [];
  remade = 0;
  relogins = 0;

  async start(store: string, rateLimit: AppOptions["rateLimit"]): Promise<void> {
    process.env.TESSERA_HTTP_STORE = store;
    this.app = await startApp({ redis: true, rateLimit });
    this.app.koa.on("error", (error) => this.errors.push(error));
    this.client = new Client(this.app.url, { maxSockets: CONCURRENCY });
    await this.ensureIdentities();
  }

  async close(): Promise<void> {
    this.client?.close();
    await this.app?.close();
  }

  private async makeIdentity(superuser: boolean): Promise<Identity> {
    const email = `fuzz-${randomBytes(5).toString("hex")}@example.com`;
    const created = await this.client.json("/auth/register", { email, password: PASSWORD });
    if (created.status !== 201) throw new Error(`register: ${created.status} ${created.text}`);
    const id = (created.body as { id: string }).id;
    if (superuser) {
      const user = await this.app.userDb.get(id);
      if (user) await this.app.userDb.update(user, { isSuperuser: true });
    }
    const tokens: Record<string, string> = {};
    let csrf = "";
    for (const backend of BACKENDS) {
      const { token, headers } = await login(this.client, backend, email);
      tokens[backend.name] = token;
      if (backend.transport === "cookie") csrf = headers["x-csrf-token"] ?? "";
    }
    return { id, email, tokens, csrf };
  }

  /** Fuzzed requests may change a password, deactivate or delete: start over when they did. */
  async ensureIdentities(): Promise<void> {
    const { identities, client } = this;
    for (const role of ["user", "admin"] as const) {
      let identity = identities[role];
      if (!identity) {
        identities[role] = await this.makeIdentity(role === "admin");
        this.remade += 1;
        continue;
      }
      for (const backend of BACKENDS) {
        const token = identity.tokens[backend.name] ?? "";
        const headers: Record<string, string> =
          backend.transport === "cookie"
            ? { cookie: `tessera_auth=${token}` }
            : { authorization: `Bearer ${token}` };
        if ((await client.send({ path: "/users/me", headers })).status === 200) continue;
        // Logged out: log in again. Password changed, deactivated or deleted: a new identity.
        const again = await login(client, backend, identity.email).catch(() => null);
        if (again) {
          identity.tokens[backend.name] = again.token;
          if (backend.transport === "cookie") identity.csrf = again.headers["x-csrf-token"] ?? "";
          this.relogins += 1;
        } else {
          identity = await this.makeIdentity(role === "admin");
          identities[role] = identity;
          this.remade += 1;
          break;
        }
      }
    }
  }

  /** Fills in `{{user.db}}`-style references with what is alive now. */
  resolve(req: Outgoing & { method: string }): Outgoing & { method: string } {
    const { app, identities } = this;
    const fill = (s: string) =>
      s.replace(/\{\{(\w+)(?:\.([\w-]+))?\}\}/g, (_, who: string, what?: string) => {
        if (who === "origin") return app.url;
        if (who === "host") return new URL(app.url).host;
        if (who === "csrf") return identities.user?.csrf ?? "";
        if (who === "outbox") {
          return app.outbox.findLast((m) => m.kind === what)?.token ?? "";
        }
        const identity = identities[who as "user" | "admin"];
        if (!identity) return "";
        if (what === "email") return identity.email;
        if (what === "id") return identity.id;
        return identity.tokens[what ?? ""] ?? "";
      });
    const headers = Object.fromEntries(
      Object.entries(req.headers ?? {}).map(([k, v]) => [k, fill(String(v))]),
    );
    const body = typeof req.body === "string" ? fill(req.body) : req.body;
    return { ...req, path: fill(req.path), headers, ...(body !== undefined ? { body } : {}) };
  }
}

/** A {@link FuzzTarget} on `store`, started before the caller's tests and closed after. */
export function fuzzTarget(store: string, rateLimit: AppOptions["rateLimit"]): FuzzTarget {
  const target = new FuzzTarget();
  beforeAll(() => target.start(store, rateLimit), 60_000);
  afterAll(() => target.close());
  return target;
}
