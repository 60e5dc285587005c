// Hostile input (suite.ts): the app under attack, its victim with a session on every
// backend, and the checks each hostile test ends with.
import { afterAll, beforeAll, expect } from "vitest";
import { startApp, type TestApp } from "../../support/app.js";
import { Client, type Reply } from "../../support/client.js";
import type { StoreUser } from "../../support/stores.js";
import { BACKENDS, type Backend, freshEmail, login, PASSWORD } from "../support.js";

/** What a stored user looks like, everything a hostile request could try to change. */
function snapshot(user: StoreUser | null) {
  if (!user) return null;
  const { id, email, hashedPassword, isActive, isSuperuser, isVerified } = user;
  return { id, email, hashedPassword, isActive, isSuperuser, isVerified };
}

export function expect4xx(res: { status: number; text?: string }, what = ""): void {
  if (res.status < 400 || res.status > 499) {
    throw new Error(`expected a 4xx${what ? ` for ${what}` : ""}, got ${res.status}: ${res.text}`);
  }
}

/** "Fast": generous, for a loaded 2-core machine; the point is "not waiting for anything". */
export const FAST_MS = 2000;

/** The registered user every hostile request aims at, logged in on every backend. */
export interface Victim {
  id: string;
  email: string;
  /** Headers that authenticate the victim, by backend name. */
  sessions: Record<string, Record<string, string>>;
}

/**
 * One test app on one store, shared by the hostile tests of a run: filled in by
 * {@link hostileFixture}'s `beforeAll`, so read its fields inside tests only.
 */
export class HostileFixture {
  app!: TestApp;
  client!: Client;
  port!: number;
  victim!: Victim;
  /** The victim's tokens, by backend name. */
  tokens!: Record<string, string>;
  /** Users in the store: a test that registers one on purpose counts it here. */
  users!: number;
  private before: ReturnType<typeof snapshot> = null;
  private readonly errors: unknown[] = [];

  constructor(readonly storeName: string) {}

  async start(): Promise<void> {
    process.env.TESSERA_HTTP_STORE = this.storeName;
    this.app = await startApp({ redis: true });
    this.app.koa.on("error", (error) => this.errors.push(error));
    this.client = new Client(this.app.url);
    this.port = this.client.port;
    const email = freshEmail("victim");
    const created = await this.client.json("/auth/register", { email, password: PASSWORD });
    expect(created.status).toBe(201);
    const sessions: Record<string, Record<string, string>> = {};
    this.tokens = {};
    for (const backend of BACKENDS) {
      const { token, headers } = await login(this.client, backend, email);
      sessions[backend.name] = headers;
      this.tokens[backend.name] = token;
    }
    this.victim = { id: (created.body as { id: string }).id, email, sessions };
    this.before = snapshot(await this.app.userDb.get(this.victim.id));
    this.users = await this.app.userCount();
  }

  async close(): Promise<void> {
    this.client?.close();
    await this.app?.close();
  }

  /** Nothing changed: the victim as before, no user added, no 500 logged. */
  async unchanged(): Promise<void> {
    expect(snapshot(await this.app.userDb.get(this.victim.id))).toEqual(this.before);
    expect(await this.app.userCount()).toBe(this.users);
    expect(this.errors).toEqual([]);
  }

  /** Every way a token is used: read, change, log out; each must be refused with 401. */
  async refused(backend: Backend, headers: Record<string, string>, what: string): Promise<void> {
    const calls: (() => Promise<Reply>)[] = [
      () => this.client.send({ path: "/users/me", headers }),
      () =>
        this.client.json(
          "/users/me",
          { is_superuser: true, email: freshEmail("pwn") },
          headers,
          "PATCH",
        ),
      () => this.client.send({ method: "POST", path: `/auth/${backend.name}/logout`, headers }),
      () => this.client.send({ path: "/users/me/sessions", headers }),
    ];
    for (const call of calls) {
      const res = await call();
      expect4xx(res, what);
      expect(res.status, what).toBe(401);
      expect(res.ms, what).toBeLessThan(FAST_MS);
    }
  }
}

/** A {@link HostileFixture} on `storeName`, started before the caller's tests and closed after. */
export function hostileFixture(storeName: string): HostileFixture {
  const fixture = new HostileFixture(storeName);
  beforeAll(() => fixture.start(), 60_000);
  afterAll(() => fixture.close());
  return fixture;
}
