// A Redis outage answers ServiceUnavailableError fast (the HTTP layer's 503), and the same
// client serves again once Redis is back. Runs on a private Redis from test/harness/control.ts:
// stopping the shared one would fail every other Redis test file running in parallel.
import { hashToken, ServiceUnavailableError } from "@tessera/core";
import { RedisJwtRevocationStore } from "@tessera/strategy-redis/jwt";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrivateService } from "../harness/control.js";
import { privateRedis, timedFailure } from "../support/outage.js";
import { fixture } from "./support.js";

// The bound under test is one second; the margin absorbs a loaded CI machine, while a
// client waiting on its defaults (offline queue, 20 retries, 10 s connect) takes far longer.
const FAST_MS = 1000;

describe("RedisStrategy during a Redis outage", () => {
  let server: PrivateService;
  let redis: Redis;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ server, redis, dispose } = await privateRedis());
  });
  afterAll(() => dispose());

  it("stopped: every operation rejects with ServiceUnavailableError within a second; restarted: the same client works", async () => {
    const f = fixture(redis);
    const strategy = f.strategy();
    const user = await f.user();
    const token = await strategy.writeToken(user);
    expect((await strategy.readToken(token, f.manager))?.id).toBe(user.id);
    const handle = (await strategy.readSession(token, f.manager))?.session.handle ?? "";
    const store = strategy.sessions;
    const digest = hashToken("first refresh secret");
    const { key } = await store.createRefreshSession(user.id, digest);

    await server.stop("crash");
    const calls: (() => Promise<unknown>)[] = [
      () => strategy.readToken(token, f.manager),
      () => strategy.readSession(token, f.manager),
      () => strategy.writeToken(user),
      () => strategy.writeSession(user, { data: { a: 1 } }),
      () => strategy.destroyToken(token, user),
      () => strategy.destroyAllTokens(user),
      () => strategy.listSessions(user, token),
      () => store.createSession(user.id),
      () => store.validateSession(token),
      () => store.getSessionData(handle),
      () => store.setSessionData(handle, { a: 1 }),
      () => store.mergeSessionData(handle, { a: 1 }),
      () => store.setSessionClaims(handle, { a: 1 }),
      () => store.invalidateSession(user.id, handle),
      () => store.invalidateUserSessions(user.id),
      () => store.listUserSessions(user.id),
      () => store.createRefreshSession(user.id, digest),
      () => store.rotateRefreshToken(key, digest, hashToken("child refresh secret")),
      () => store.getSession(handle),
    ];
    for (const [i, call] of calls.entries()) {
      const { error, ms } = await timedFailure(call);
      expect(error, `call ${i}`).toBeInstanceOf(ServiceUnavailableError);
      expect((error as Error).cause).toBeInstanceOf(Error);
      expect(ms).toBeLessThan(FAST_MS);
    }

    await server.start();
    // The client reconnects by itself (backoff capped at 1 s). No persistence: the old
    // session died with the server, so the token now reads as null, not as an error.
    await expect
      .poll(() => strategy.readToken(token, f.manager).catch((e) => e), { timeout: 10_000 })
      .toBeNull();
    const fresh = await strategy.writeToken(user);
    expect((await strategy.readToken(fresh, f.manager))?.id).toBe(user.id);
  });

  it("hung (clients paused): a read times out into ServiceUnavailableError within a second", async () => {
    const f = fixture(redis);
    const strategy = f.strategy();
    const user = await f.user();
    const token = await strategy.writeToken(user);
    const admin = new Redis(server.url);
    try {
      await admin.client("PAUSE", 1500, "ALL");
      const { error, ms } = await timedFailure(() => strategy.readToken(token, f.manager));
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(ms).toBeLessThan(FAST_MS);
      await admin.client("UNPAUSE");
      await expect
        .poll(() => strategy.readToken(token, f.manager).catch((e) => e), { timeout: 10_000 })
        .toMatchObject({ id: user.id });
    } finally {
      admin.disconnect();
    }
  });

  it("the JWT revocation store fails closed: isRevoked throws ServiceUnavailableError, fast", async () => {
    const store = new RedisJwtRevocationStore({ redis });
    await server.stop("crash");
    try {
      const { error, ms } = await timedFailure(() =>
        store.isRevoked({ jti: "j", sub: "s", issuedAt: new Date() }),
      );
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(ms).toBeLessThan(FAST_MS);
    } finally {
      await server.start();
    }
    await expect
      .poll(() => store.isRevoked({ jti: "j", sub: "s", issuedAt: new Date() }).catch((e) => e), {
        timeout: 10_000,
      })
      .toBe(false);
  });
});
