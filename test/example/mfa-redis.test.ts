// examples/koa-app with REDIS_URL keeps the mfa_tokens' single use and wrong-code counts in
// Redis (RedisMfaChallengeStore): two instances of the app (one PostgreSQL database, one
// Redis, one TESSERA_SECRET) behind a balancer, and a login's second step may reach either.
// A token begun on one completes on the other, once (ASVS 5.0 6.5.1), and wrong codes sent
// to both count to one limit (ASVS 5.0 6.3.1). Rate limiting is off here so that the
// challenge's own limit is what answers.

import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { stepAt, totpAtStep } from "../../packages/mfa/src/test-utils/rfc6238.js";
import { type Reply, request } from "../support/client.js";
import { harnessUrl, scratchPostgres, startInProcess } from "./support.js";

const PASSWORD = "correct horse battery staple";
const log = { info: () => {}, warn: () => {}, error: () => {} };

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function startExample(env: Record<string, string>) {
  return startInProcess(
    {
      RATE_LIMIT: "off",
      ...env,
    },
    { cleanups, log, prefix: "koa-app-mfa-redis-" },
  );
}

const body = (res: Reply) => res.body as Record<string, unknown>;

describe("examples/koa-app's mfa_tokens in Redis, across two instances", () => {
  it("a token from one instance completes on the other once; wrong codes on both count to one limit", async () => {
    const redis = harnessUrl("REDIS_URL");
    const env = {
      DATABASE_URL: scratchPostgres("koa_app_mfa_redis", cleanups),
      REDIS_URL: redis,
      TESSERA_SECRET: randomBytes(32).toString("hex"),
    };
    const a = await startExample(env);
    const b = await startExample(env);

    const email = `mfa-redis-${randomBytes(3).toString("hex")}@example.com`;
    expect(
      (await request(`${a.url}/auth/register`, { json: { email, password: PASSWORD } })).status,
    ).toBe(201);
    const login = (url: string) =>
      request(`${url}/auth/jwt/login`, { form: { username: email, password: PASSWORD } });
    const first = await login(a.url);
    expect(first.status, first.text).toBe(200);
    const bearer = body(first).access_token as string;
    const enrol = await request(`${a.url}/users/me/mfa/totp`, { method: "POST", bearer });
    expect(enrol.status, enrol.text).toBe(200);
    const secret = body(enrol).secret as string;
    const step = stepAt(Date.now());
    const confirm = await request(`${a.url}/users/me/mfa/totp/confirm`, {
      json: { code: totpAtStep(secret, step) },
      bearer,
    });
    expect(confirm.status, confirm.text).toBe(200);

    // Begun on A, completed on B; the same token is then refused on A.
    const challenge = await login(a.url);
    expect(challenge.status).toBe(400);
    expect(body(challenge).detail).toBe("LOGIN_MFA_REQUIRED");
    const token = body(challenge).mfa_token as string;
    const done = await request(`${b.url}/auth/jwt/login/mfa`, {
      json: { mfa_token: token, code: totpAtStep(secret, step + 1) },
    });
    expect(done.status, done.text).toBe(200);
    const replay = await request(`${a.url}/auth/jwt/login/mfa`, {
      json: { mfa_token: token, code: totpAtStep(secret, step + 2) },
    });
    expect(replay.status).toBe(400);
    expect(body(replay).detail).toBe("MFA_TOKEN_USED");
    const keys = await a.example.redis?.keys("tessera:mfa-challenge:*");
    expect(keys?.length).toBeGreaterThan(0);

    // Five wrong codes, alternately on A and B: the count is one, and the token dies on both.
    const second = await login(b.url);
    const dead = body(second).mfa_token as string;
    const good = totpAtStep(secret, stepAt(Date.now()));
    const wrong = good === "000000" ? "000001" : "000000";
    for (let i = 0; i < 5; i++) {
      const res = await request(`${(i % 2 ? b : a).url}/auth/jwt/login/mfa`, {
        json: { mfa_token: dead, code: wrong },
      });
      expect(res.status, res.text).toBe(400);
      expect(body(res).detail).toBe("MFA_CODE_INVALID");
    }
    for (const instance of [a, b]) {
      const res = await request(`${instance.url}/auth/jwt/login/mfa`, {
        json: { mfa_token: dead, code: good },
      });
      expect(res.status).toBe(400);
      expect(body(res).detail).toBe("MFA_TOKEN_USED");
    }
  });
});
