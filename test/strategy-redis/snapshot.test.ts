// RedisStrategy user snapshots: no database read per request, kept fresh by onUserChanged,
// dropped with the sessions when a change revokes them.
import { AuthenticationBackend, BearerTransport, hashToken, UserManager } from "@tessera/core";
import type { MemoryUser } from "@tessera/core/testing";
import { isUserSnapshot, type RedisClient } from "@tessera/strategy-redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectTo, countCalls, fixture, MINUTE, TOPOLOGIES } from "./support.js";

describe.each(TOPOLOGIES)("RedisStrategy snapshots (%s)", (topology) => {
  let redis: RedisClient;
  beforeAll(async () => {
    redis = await connectTo(topology);
  });
  afterAll(() => redis.disconnect());

  it("a snapshot session authenticates without reading the user database", async () => {
    const f = fixture(redis);
    const strategy = f.strategy({ snapshot: true });
    const user = await f.user({ displayName: "Ada", isVerified: true });
    const token = await strategy.writeToken(user);
    const gets = countCalls(f.userDb);
    const manager = Object.assign(Object.create(f.manager), { userDb: gets.client });
    const read = await strategy.readToken(token, manager);
    expect(gets.calls).toEqual([]);
    const { hashedPassword: _, ...publicFields } = user;
    expect(read).toEqual({ ...publicFields, hashedPassword: "" });
    expect(read && isUserSnapshot(read)).toBe(true);
    expect(isUserSnapshot(user)).toBe(false);
  });

  it("never stores the password hash, whatever the projection returns", async () => {
    const f = fixture(redis);
    const user = await f.user();
    for (const snapshot of [true, (u: typeof user) => ({ ...u, nickname: "x" })] as const) {
      const token = await f.strategy({ snapshot }).writeToken(user);
      const stored = await redis.hget(`${f.keys.prefix}${hashToken(token)}`, "s");
      expect(stored).not.toBeNull();
      expect(stored).not.toContain(user.hashedPassword);
      expect(JSON.parse(stored ?? "{}")).not.toHaveProperty("hashedPassword");
    }
  });

  it("a projection picks app fields; the protocol fields are kept regardless", async () => {
    const f = fixture(redis);
    const strategy = f.strategy({ snapshot: () => ({ plan: "pro", isSuperuser: true }) });
    const user = await f.user({ plan: "free", secretNote: "do not cache" });
    const read = await strategy.readToken(await strategy.writeToken(user), f.manager);
    expect(read).toEqual({
      id: user.id,
      email: user.email,
      hashedPassword: "",
      isActive: true,
      isSuperuser: false, // the projection cannot grant it
      isVerified: false,
      plan: "pro",
    });
  });

  it("onUserChanged rewrites the snapshot of every live session and keeps each TTL", async () => {
    const f = fixture(redis);
    const strategy = f.strategy({ snapshot: true, lifetimeSeconds: 3600 });
    const user = await f.user();
    const first = await strategy.writeToken(user);
    f.clock.advance(10 * MINUTE);
    const second = await strategy.writeToken(user);
    const keys = [first, second].map((t) => `${f.keys.prefix}${hashToken(t)}`);
    const before = await Promise.all(keys.map((k) => redis.pttl(k)));

    const updated = await f.userDb.update(user, { email: "new@example.com", isVerified: true });
    await strategy.onUserChanged(updated, {
      kind: "update",
      fields: ["email", "isVerified"],
      revokeSessions: false,
    });
    for (const token of [first, second]) {
      const read = await strategy.readToken(token, f.manager);
      expect(read).toMatchObject({ email: "new@example.com", isVerified: true });
    }
    const after = await Promise.all(keys.map((k) => redis.pttl(k)));
    after.forEach((ttl, i) => {
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(before[i] ?? 0);
    });
  });

  it("ASVS 5.0 7.4.3: a change that revokes sessions drops every session and its snapshot", async () => {
    const f = fixture(redis);
    const strategy = f.strategy({ snapshot: true });
    const user = await f.user();
    const tokens = [await strategy.writeToken(user), await strategy.writeToken(user)];
    await strategy.onUserChanged(user, {
      kind: "password",
      fields: ["hashedPassword"],
      revokeSessions: true,
    });
    for (const token of tokens) {
      expect(await strategy.readToken(token, f.manager)).toBeNull();
      expect(await redis.exists(`${f.keys.prefix}${hashToken(token)}`)).toBe(0);
    }
  });

  it("ASVS 5.0 7.4.3: a password change from a session ends the others and keeps that one, its snapshot refreshed", async () => {
    const f = fixture(redis);
    const strategy = f.strategy({ snapshot: true });
    const user = await f.user();
    const [current, other1, other2] = [
      await strategy.writeToken(user),
      await strategy.writeToken(user),
      await strategy.writeToken(user),
    ];
    const theirs = await strategy.writeToken(await f.user());
    const updated = await f.userDb.update(user, { hashedPassword: "new", nickname: "N" });
    await strategy.onUserChanged(updated, {
      kind: "password",
      fields: ["hashedPassword", "nickname"],
      revokeSessions: true,
      exceptToken: current,
    });
    expect(await strategy.readToken(current, f.manager)).toMatchObject({ nickname: "N" });
    for (const token of [other1, other2]) {
      expect(await strategy.readToken(token, f.manager)).toBeNull();
    }
    expect(await strategy.readToken(theirs, f.manager)).not.toBeNull();
    expect((await strategy.listSessions(user, current)).map((s) => s.current)).toEqual([true]);
  });

  it("destroyAllTokens with another user's token as exceptToken ends every session", async () => {
    const f = fixture(redis);
    const strategy = f.strategy();
    const user = await f.user();
    const mine = await strategy.writeToken(user);
    const theirs = await strategy.writeToken(await f.user());
    await strategy.destroyAllTokens(user, { exceptToken: theirs });
    expect(await strategy.readToken(mine, f.manager)).toBeNull();
    expect(await strategy.readToken(theirs, f.manager)).not.toBeNull();
  });

  it("without snapshots, onUserChanged leaves sessions alone unless told to revoke", async () => {
    const f = fixture(redis);
    const strategy = f.strategy();
    const user = await f.user();
    const token = await strategy.writeToken(user);
    await strategy.onUserChanged(user, {
      kind: "update",
      fields: ["email"],
      revokeSessions: false,
    });
    expect(await redis.hexists(`${f.keys.prefix}${hashToken(token)}`, "s")).toBe(0);
    expect(await strategy.readToken(token, f.manager)).not.toBeNull();
    await strategy.onUserChanged(user, { kind: "delete", fields: [], revokeSessions: true });
    expect(await strategy.readToken(token, f.manager)).toBeNull();
  });

  it("a session without a usable snapshot falls back to the database", async () => {
    const f = fixture(redis);
    const user = await f.user();
    const plain = await f.strategy().writeToken(user);
    const corrupt = await f.strategy({ snapshot: true }).writeToken(user);
    await redis.hset(`${f.keys.prefix}${hashToken(corrupt)}`, "s", '{"email":1}');
    const strategy = f.strategy({ snapshot: true });
    for (const token of [plain, corrupt]) {
      expect(await strategy.readToken(token, f.manager)).toEqual(user);
    }
  });

  it("a direct database edit is not seen by a snapshot session (documented limit)", async () => {
    const f = fixture(redis);
    const strategy = f.strategy({ snapshot: true });
    const user = await f.user();
    const token = await strategy.writeToken(user);
    await f.userDb.update(user, { isActive: false });
    expect((await strategy.readToken(token, f.manager))?.isActive).toBe(true);
  });

  it("changes made through the UserManager reach every session: refresh on update, end on password change or delete", async () => {
    const f = fixture(redis);
    const strategy = f.strategy({ snapshot: true });
    const backend = new AuthenticationBackend({
      name: "redis",
      transport: new BearerTransport({ tokenUrl: "auth/redis/login" }),
      getStrategy: () => strategy,
    });
    const manager = new UserManager<MemoryUser, string>({
      userDb: f.userDb,
      verificationTokenSecret: "verify-secret-0123456789-abcdefghijklmnop",
      resetPasswordTokenSecret: "reset-secret-0123456789-abcdefghijklmnopq",
      backends: [backend],
    });
    const user = await f.user();
    const [a, b] = [await strategy.writeToken(user), await strategy.writeToken(user)];
    // The snapshot user itself is what PATCH /users/me hands to update().
    const current = await strategy.readToken(a, manager);
    await manager.update({ displayName: "Grace" }, current as MemoryUser);
    for (const token of [a, b]) {
      expect(await strategy.readToken(token, manager)).toMatchObject({ displayName: "Grace" });
    }
    await manager.update({ password: "a new password, long enough" }, user);
    for (const token of [a, b]) expect(await strategy.readToken(token, manager)).toBeNull();

    const c = await strategy.writeToken(user);
    await manager.delete(user);
    expect(await strategy.readToken(c, manager)).toBeNull();
    expect(await redis.exists(`${f.keys.prefix}${hashToken(c)}`)).toBe(0);
  });
});
