// RedisMfaChallengeStore (@tessera/strategy-redis) as MfaChallenges' store, on the harness'
// standalone Redis and 3-node Cluster: an mfa_token is used once across every app instance
// (ASVS 5.0 6.5.1), and its wrong codes are counted across all of them up to the limit
// (ASVS 5.0 6.3.1: a second instance does not reset the count).
import { randomUUID } from "node:crypto";
import {
  isMfaError,
  type MfaChallengeStore,
  MfaChallenges,
  MfaCodeInvalidError,
  MfaErrorCode,
} from "@tessera/mfa";
import { RedisMfaChallengeStore } from "@tessera/strategy-redis";
import { afterAll, describe, expect, it } from "vitest";
import { stepAt, totpAtStep } from "../../packages/mfa/src/test-utils/rfc6238.js";
import { setup } from "../../packages/mfa/src/test-utils/setup.js";
import { connectTo, mastersOf, TOPOLOGIES } from "../strategy-redis/support.js";

describe.each(TOPOLOGIES)("RedisMfaChallengeStore on %s Redis", (topology) => {
  const clients: Awaited<ReturnType<typeof connectTo>>[] = [];
  afterAll(async () => {
    for (const c of clients) c.disconnect();
  });
  const store = async (prefix = `test:mfa:${randomUUID()}:`) => {
    const redis = await connectTo(topology);
    clients.push(redis);
    return new RedisMfaChallengeStore({ redis, prefix });
  };

  /** Two app instances (own Redis connections, one prefix) over one user with a confirmed TOTP factor. */
  const twoInstances = async () => {
    const s = await setup();
    const { secret } = await s.factors.enrol(s.user);
    await s.factors.confirm(s.user, totpAtStep(secret, stepAt(s.clock.now)));
    s.clock.now += 60_000;
    const a = await store();
    const b = await store(a.prefix);
    const make = (challengeStore: MfaChallengeStore) =>
      new MfaChallenges({
        userManager: s.userManager,
        factors: s.factors,
        keyring: s.keyring,
        store: challengeStore,
        now: () => s.clock.now,
      });
    const code = () => totpAtStep(secret, stepAt(s.clock.now));
    const wrong = () => (code() === "000000" ? "000001" : "000000");
    return { ...s, one: make(a), two: make(b), code, wrong };
  };

  it("consumes once and keeps the key for the ttl; isConsumed sees it", async () => {
    const s = await store();
    expect(await s.isConsumed("a")).toBe(false);
    expect(await s.consume("a", 30)).toBe(true);
    expect(await s.consume("a", 30)).toBe(false);
    expect(await s.isConsumed("a")).toBe(true);
    expect(await s.isConsumed("b")).toBe(false);
    const ttl = await s.redis.ttl(`${s.prefix}a`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30);
  });

  it("one key per challenge: consume and failures share it, on one node", async () => {
    const s = await store();
    expect(await s.addFailure("x", 30)).toBe(1);
    expect(await s.consume("x", 30)).toBe(true);
    let holders = 0;
    for (const node of mastersOf(s.redis)) {
      const keys = await node.keys(`${s.prefix}*`);
      if (keys.length > 0) holders++;
      for (const key of keys) expect(key).toBe(`${s.prefix}x`);
    }
    expect(holders).toBe(1);
  });

  it("has exactly one winner among 20 concurrent consumes on two connections (ASVS 5.0 6.5.1)", async () => {
    const one = await store();
    const two = await store(one.prefix);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).consume("race", 300)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it("counts failures across two connections without losing one", async () => {
    const one = await store();
    const two = await store(one.prefix);
    const counts = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).addFailure("f", 300)),
    );
    expect([...counts].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // A failure never shortens a consumed mark's life.
    expect(await one.consume("f", 300)).toBe(true);
    expect(await two.addFailure("f", 1)).toBe(21);
    expect(await one.redis.ttl(`${one.prefix}f`)).toBeGreaterThan(1);
  });

  it("forgets a challenge once its ttl has passed", async () => {
    const s = await store();
    expect(await s.consume("short", 1)).toBe(true);
    expect(await s.addFailure("short", 1)).toBe(1);
    await expect.poll(() => s.redis.exists(`${s.prefix}short`), { timeout: 5_000 }).toBe(0);
    expect(await s.isConsumed("short")).toBe(false);
    expect(await s.addFailure("short", 1)).toBe(1);
  });

  it("an mfa_token issued on one instance completes on the other, once (ASVS 5.0 6.5.1)", async () => {
    const { one, two, user, code } = await twoInstances();
    const { token } = one.issue(user, "jwt");
    expect((await two.complete(token, { code: code() }, { backend: "jwt" })).id).toBe(user.id);
    await expect(one.complete(token, { code: code() }, { backend: "jwt" })).rejects.toSatisfy((e) =>
      isMfaError(e, MfaErrorCode.MFA_TOKEN_USED),
    );
  });

  it("wrong codes alternating between two instances count to the limit; then the token is dead on both (ASVS 5.0 6.3.1)", async () => {
    const { one, two, user, code, wrong } = await twoInstances();
    const { token } = one.issue(user, "jwt");
    const left: (number | undefined)[] = [];
    for (let i = 0; i < 5; i++) {
      const error = await (i % 2 ? two : one)
        .complete(token, { code: wrong() }, { backend: "jwt" })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MfaCodeInvalidError);
      left.push((error as MfaCodeInvalidError).attemptsLeft);
    }
    expect(left).toEqual([4, 3, 2, 1, 0]);
    for (const instance of [one, two]) {
      await expect(
        instance.complete(token, { code: code() }, { backend: "jwt" }),
      ).rejects.toSatisfy((e) => isMfaError(e, MfaErrorCode.MFA_TOKEN_USED));
    }
  });
});
