// RedisChallengeStore (@tessera/strategy-redis) as PasskeyService's challenge store, on the
// harness' standalone Redis and 3-node Cluster: a challenge is taken once across every app
// instance (ASVS 5.0 6.7.2), and a login may end on another instance than it began on.
import { randomUUID } from "node:crypto";
import { type MemoryUser, MemoryUserDatabase, userCreateData } from "@tessera/core/testing";
import { PasskeyChallengeError, PasskeyService } from "@tessera/passkeys";
import { RedisChallengeStore } from "@tessera/strategy-redis";
import { afterAll, describe, expect, it } from "vitest";
import { SoftwareAuthenticator } from "../../packages/passkeys/src/test-utils/authenticator.js";
import { connectTo, TOPOLOGIES } from "../strategy-redis/support.js";

const ORIGIN = "https://example.test";

describe.each(TOPOLOGIES)("RedisChallengeStore on %s Redis", (topology) => {
  const clients: Awaited<ReturnType<typeof connectTo>>[] = [];
  afterAll(async () => {
    for (const c of clients) c.disconnect();
  });
  const store = async (prefix = `test:passkey:${randomUUID()}:`) => {
    const redis = await connectTo(topology);
    clients.push(redis);
    return new RedisChallengeStore({ redis, prefix });
  };

  /** Two app instances (own Redis connections) over one user database and one key prefix. */
  const twoInstances = async () => {
    const a = await store();
    const b = await store(a.prefix);
    const db = new MemoryUserDatabase();
    const user: MemoryUser = await db.create(userCreateData("alice@example.test"));
    const make = (challengeStore: RedisChallengeStore) =>
      new PasskeyService<string>({
        database: db,
        rpId: "example.test",
        rpName: "Example",
        origins: ORIGIN,
        userHandleSecret: "passkey-user-handle-secret-of-at-least-32-bytes",
        challengeStore,
      });
    return { one: make(a), two: make(b), user, db };
  };

  it("gives a value back once, with the ttl on the key", async () => {
    const s = await store();
    await s.put("a", "value", 30);
    const ttl = await s.redis.ttl(`${s.prefix}a`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30);
    expect(await s.take("a")).toBe("value");
    expect(await s.take("a")).toBeNull();
    expect(await s.take("never")).toBeNull();
  });

  it("has exactly one taker among concurrent takes on two connections", async () => {
    const one = await store();
    const two = await store(one.prefix);
    await one.put("race", "value", 30);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).take("race")),
    );
    expect(results.filter((r) => r !== null)).toEqual(["value"]);
  });

  it("registers on one instance and logs in across both; a replay on the other is refused", async () => {
    const { one, two, user } = await twoInstances();
    const device = new SoftwareAuthenticator();
    const reg = await one.registrationOptions(user);
    await two.verifyRegistration(user, device.register(reg.options, { origin: ORIGIN }), reg);
    const login = await two.authenticationOptions();
    const response = device.login(login.options, { origin: ORIGIN });
    await expect(one.verifyAuthentication(response, login)).resolves.toMatchObject({
      userId: user.id,
    });
    await expect(two.verifyAuthentication(response, login)).rejects.toBeInstanceOf(
      PasskeyChallengeError,
    );
  });

  it("one assertion sent to both instances at once logs in once", async () => {
    const { one, two, user } = await twoInstances();
    const device = new SoftwareAuthenticator({ counts: false });
    const reg = await one.registrationOptions(user);
    await one.verifyRegistration(user, device.register(reg.options, { origin: ORIGIN }), reg);
    const login = await one.authenticationOptions();
    const response = device.login(login.options, { origin: ORIGIN });
    const results = await Promise.allSettled([
      one.verifyAuthentication(response, login),
      two.verifyAuthentication(response, login),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(PasskeyChallengeError);
  });
});
