// Issue 17 on every database of the example app, over HTTP: TOTP (enrol, confirm, the login's
// second step) and passkeys (register with a software authenticator, log in, delete, refused)
// through the app exactly as createApp builds it, on SQLite, PostgreSQL with Redis, and the
// MongoDB protocol with Redis. The TOTP secret is stored encrypted, and with Redis the passkey
// challenges are kept there. Codes come from the tests' own RFC 6238 implementation. The
// browser test of the same flows is mfa-e2e.test.ts.

import { randomBytes } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { MongoClient } from "mongodb";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import type { ExampleApp } from "../../examples/koa-app/src/app.js";
import { passkeysAvailable } from "../../examples/koa-app/src/auth.js";
import { stepAt, totpAtStep } from "../../packages/mfa/src/test-utils/rfc6238.js";
import { SoftwareAuthenticator } from "../../packages/passkeys/src/test-utils/authenticator.js";
import { type Reply, request } from "../support/client.js";
import { harnessUrl, scratchMongo, scratchPostgres, startInProcess } from "./support.js";

const PASSWORD = "correct horse battery staple";

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** The example app in-process at http://localhost:PORT (WebAuthn's RP ID: localhost). */
async function startExample(env: Record<string, string>, hostname = "localhost") {
  return startInProcess(env, { cleanups, hostname, prefix: "koa-app-mfa-" });
}

const detail = (res: Reply) => (res.body as { detail?: unknown } | undefined)?.detail;

interface Database {
  name: string;
  env(): Promise<Record<string, string>>;
  /** The stored TOTP secret of the only enrolled user. */
  storedSecret(example: ExampleApp, env: Record<string, string>): Promise<string>;
}

const databases: Database[] = [
  {
    name: "SQLite (mfa_totp, mfa_recovery_codes, passkeys), challenges in memory",
    env: async () => ({}),
    storedSecret: async (example) => {
      const db = new DatabaseSync(
        example.config.database.kind === "sqlite" ? example.config.database.file : "",
      );
      try {
        return String(db.prepare("select secret from mfa_totp").get()?.secret);
      } finally {
        db.close();
      }
    },
  },
  {
    name: "PostgreSQL (the app creates the MFA tables), passkey challenges in Redis",
    env: async () => {
      const redis = harnessUrl("REDIS_URL");
      return { DATABASE_URL: scratchPostgres("koa_app_mfa", cleanups), REDIS_URL: redis };
    },
    storedSecret: async (_example, env) => {
      const client = new pg.Client({ connectionString: env.DATABASE_URL });
      await client.connect();
      try {
        const { rows } = await client.query("select secret from mfa_totp");
        return String(rows[0]?.secret);
      } finally {
        await client.end();
      }
    },
  },
  {
    name: "MongoDB protocol (collections mfa and passkeys), passkey challenges in Redis",
    env: async () => {
      const redis = harnessUrl("REDIS_URL");
      return { MONGODB_URL: scratchMongo("koa_app_mfa", cleanups), REDIS_URL: redis };
    },
    storedSecret: async (example, env) => {
      const client = await new MongoClient(env.MONGODB_URL as string).connect();
      try {
        const db = client.db(
          example.config.database.kind === "mongodb" ? example.config.database.dbName : "",
        );
        const doc = await db.collection("mfa").findOne({});
        return JSON.stringify(doc);
      } finally {
        await client.close();
      }
    },
  },
];

describe.each(databases)("examples/koa-app's second factors and passkeys on $name", (database) => {
  it("TOTP: enrol, confirm (secret encrypted at rest), then the login's second step (ASVS 5.0 6.3.3, 6.5.1)", async () => {
    const env = await database.env();
    const { example, url } = await startExample(env);
    const email = `totp-${randomBytes(3).toString("hex")}@example.com`;
    expect(
      (await request(`${url}/auth/register`, { json: { email, password: PASSWORD } })).status,
    ).toBe(201);
    const login = () =>
      request(`${url}/auth/jwt/login`, { form: { username: email, password: PASSWORD } });
    const first = await login();
    expect(first.status, first.text).toBe(200);
    const token = (first.body as { access_token: string }).access_token;

    const enrol = await request(`${url}/users/me/mfa/totp`, { method: "POST", bearer: token });
    expect(enrol.status, enrol.text).toBe(200);
    const { secret, uri } = enrol.body as { secret: string; uri: string };
    expect(uri).toMatch(/^otpauth:\/\/totp\/Tessera%20example:/);
    const qr = await request(`${url}/app/qr-code`, { json: { uri }, bearer: token });
    expect(qr.status, qr.text).toBe(200);
    expect(qr.headers.get("cache-control")).toBe("no-store");
    expect((qr.body as { image: string }).image).toMatch(/^data:image\/svg\+xml;base64,/);

    const step = stepAt(Date.now());
    const confirm = await request(`${url}/users/me/mfa/totp/confirm`, {
      json: { code: totpAtStep(secret, step) },
      bearer: token,
    });
    expect(confirm.status, confirm.text).toBe(200);
    expect((confirm.body as { recovery_codes: string[] }).recovery_codes).toHaveLength(10);
    const stored = await database.storedSecret(example, env);
    expect(stored.length).toBeGreaterThan(0);
    expect(stored).not.toContain(secret);

    const second = await login();
    expect(second.status).toBe(400);
    expect(detail(second)).toBe("LOGIN_MFA_REQUIRED");
    const mfaToken = (second.body as { mfa_token: string }).mfa_token;
    // The confirmation used `step`: a step is accepted once, so the next one's code.
    const done = await request(`${url}/auth/jwt/login/mfa`, {
      json: { mfa_token: mfaToken, code: totpAtStep(secret, step + 1) },
    });
    expect(done.status, done.text).toBe(200);
    expect((done.body as { access_token: string }).access_token).toBeTruthy();
  });

  it("passkeys: register, log in without a username, delete, and the deleted one is refused (ASVS 5.0 6.5.6)", async () => {
    const env = await database.env();
    const { example, url } = await startExample(env);
    const email = `passkey-${randomBytes(3).toString("hex")}@example.com`;
    await request(`${url}/auth/register`, { json: { email, password: PASSWORD } });
    const first = await request(`${url}/auth/jwt/login`, {
      form: { username: email, password: PASSWORD },
    });
    const token = (first.body as { access_token: string }).access_token;
    const authenticator = new SoftwareAuthenticator();

    const start = await request(`${url}/users/me/passkeys/options`, {
      method: "POST",
      bearer: token,
    });
    expect(start.status, start.text).toBe(200);
    const { challenge_id, options } = start.body as { challenge_id: string; options: never };
    expect((options as { rp: { id: string } }).rp.id).toBe("localhost");
    if (example.redis) {
      expect(await example.redis.exists(`tessera:passkey-challenge:${challenge_id}`)).toBe(1);
    }
    const credential = authenticator.register(options, { origin: url });
    const added = await request(`${url}/users/me/passkeys`, {
      json: { challenge_id, credential, name: "Laptop" },
      bearer: token,
    });
    expect(added.status, added.text).toBe(201);
    const passkeyId = (added.body as { id: string }).id;

    const passkeyLogin = async () => {
      const begun = await request(`${url}/auth/jwt/passkey/options`, { method: "POST" });
      expect(begun.status, begun.text).toBe(200);
      const body = begun.body as { challenge_id: string; options: never };
      return request(`${url}/auth/jwt/passkey/login`, {
        json: {
          challenge_id: body.challenge_id,
          credential: authenticator.login(body.options, { origin: url }),
        },
      });
    };
    const signedIn = await passkeyLogin();
    expect(signedIn.status, signedIn.text).toBe(200);
    const me = await request(`${url}/users/me`, {
      bearer: (signedIn.body as { access_token: string }).access_token,
    });
    expect((me.body as { email: string }).email).toBe(email);

    const removed = await request(`${url}/users/me/passkeys/${encodeURIComponent(passkeyId)}`, {
      method: "DELETE",
      bearer: token,
    });
    expect(removed.status, removed.text).toBe(204);
    const refused = await passkeyLogin();
    expect(refused.status).toBe(400);
    expect(detail(refused)).toBe("PASSKEY_UNKNOWN_CREDENTIAL");
  });
});

describe("examples/koa-app's passkeys follow APP_URL", () => {
  it("are on at https and http://localhost, off at plain http elsewhere and at IP addresses", async () => {
    expect(passkeysAvailable("https://app.example.com")).toBe(true);
    expect(passkeysAvailable("http://localhost:8000")).toBe(true);
    expect(passkeysAvailable("http://app.example.com")).toBe(false);
    expect(passkeysAvailable("http://127.0.0.1:8000")).toBe(false);
    expect(passkeysAvailable("https://192.0.2.1")).toBe(false);
    expect(passkeysAvailable("http://[::1]:8000")).toBe(false);
    // Off: the page is told, and the passkey routes are not mounted; TOTP stays on.
    const { url } = await startExample({}, "127.0.0.1");
    expect(new URL(url).hostname).toBe("127.0.0.1");
    expect((await request(`${url}/app/security`)).body).toEqual({ passkeys: false });
    expect((await request(`${url}/users/me/passkeys`)).status).toBe(404);
    expect((await request(`${url}/users/me/mfa`)).status).toBe(401);
    expect((await request(`${url}/auth/jwt/passkey/options`, { method: "POST" })).status).toBe(404);
  });
});
