import { ConfigurationError, hashToken, UserManager } from "@tessera/core";
import {
  MemoryAccessTokenDatabase,
  type MemoryUser,
  MemoryUserDatabase,
} from "@tessera/core/testing";
import { beforeEach, describe, expect, it } from "vitest";
import { DatabaseStrategy } from "./database-strategy.js";

const SECRET = "a-test-secret-of-at-least-thirty-two-bytes";

/** Counts writes so renewal throttling is observable. */
class CountingTokens extends MemoryAccessTokenDatabase {
  updates = 0;
  override async update(...args: Parameters<MemoryAccessTokenDatabase["update"]>) {
    this.updates++;
    return super.update(...args);
  }
}

let now: number;
let users: MemoryUserDatabase;
let tokens: CountingTokens;
let manager: UserManager<MemoryUser, string>;
let user: MemoryUser;
const make = (
  options: { lifetimeSeconds?: number; maxLifetimeSeconds?: number; join?: boolean } = {},
) =>
  new DatabaseStrategy<MemoryUser>({
    database: options.join === false ? withoutJoin(tokens) : tokens,
    clock: () => now,
    ...options,
  });

function withoutJoin(db: CountingTokens) {
  return {
    getByToken: db.getByToken.bind(db),
    create: db.create.bind(db),
    update: db.update.bind(db),
    delete: db.delete.bind(db),
    deleteAllForUser: db.deleteAllForUser.bind(db),
    deleteExpired: db.deleteExpired.bind(db),
  };
}

beforeEach(async () => {
  now = Date.UTC(2026, 0, 1);
  users = new MemoryUserDatabase();
  tokens = new CountingTokens(users);
  manager = new UserManager({
    userDb: users,
    verificationTokenSecret: SECRET,
    resetPasswordTokenSecret: SECRET,
  });
  user = await users.create({
    email: "db@example.com",
    hashedPassword: "x",
    isActive: true,
    isSuperuser: false,
    isVerified: false,
  });
});

describe("DatabaseStrategy", () => {
  it.each([true, false])("round trip (one-round-trip read: %s)", async (join) => {
    const strategy = make({ join });
    const token = await strategy.writeToken(user);
    expect((await strategy.readToken(token, manager))?.id).toBe(user.id);
  });

  it("ASVS 5.0 7.2.3: tokens are 256-bit base64url and unique", async () => {
    const strategy = make();
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(await strategy.writeToken(user));
    expect(seen.size).toBe(200);
    for (const token of seen) expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("only the SHA-256 digest is stored; a stored digest presented as a token is rejected", async () => {
    const strategy = make();
    const token = await strategy.writeToken(user);
    const stored = [...tokens.tokens.keys()];
    expect(stored).toEqual([hashToken(token)]);
    expect(stored).not.toContain(token);
    expect(await strategy.readToken(stored[0] ?? "", manager)).toBeNull();
  });

  it("unknown, malformed and null tokens read as null", async () => {
    const strategy = make();
    for (const t of [null, "", "x", "a".repeat(43), "!".repeat(43), "a".repeat(10_000)]) {
      expect(await strategy.readToken(t, manager)).toBeNull();
    }
  });

  it("a token of a deleted user reads as null", async () => {
    const strategy = make({ join: false });
    const token = await strategy.writeToken(user);
    await users.delete(user);
    expect(await strategy.readToken(token, manager)).toBeNull();
  });

  it("an idle-expired token reads as null and its row is deleted", async () => {
    const strategy = make({ lifetimeSeconds: 60 });
    const token = await strategy.writeToken(user);
    now += 60_000;
    expect(await strategy.readToken(token, manager)).toBeNull();
    expect(tokens.tokens.size).toBe(0);
  });

  it("sliding renewal: no write while more than half remains, one write once less does", async () => {
    const strategy = make({ lifetimeSeconds: 100 });
    const token = await strategy.writeToken(user);
    for (let i = 0; i < 10; i++) {
      now += 4_000; // up to 40 s used: > 50 s remain
      await strategy.readToken(token, manager);
    }
    expect(tokens.updates).toBe(0);
    now += 15_000; // 55 s used: 45 s remain < 50
    expect(await strategy.readToken(token, manager)).not.toBeNull();
    expect(tokens.updates).toBe(1);
    for (let i = 0; i < 10; i++) await strategy.readToken(token, manager);
    expect(tokens.updates).toBe(1);
    // Renewed to now + 100 s: still valid 99 s later, although created 154 s ago.
    now += 99_000;
    expect(await strategy.readToken(token, manager)).not.toBeNull();
  });

  it("ASVS 5.0 7.3.2: renewal never extends a token past maxLifetimeSeconds", async () => {
    const strategy = make({ lifetimeSeconds: 100, maxLifetimeSeconds: 250 });
    const token = await strategy.writeToken(user);
    for (let t = 0; t < 249; t += 30) {
      expect(await strategy.readToken(token, manager)).not.toBeNull();
      now += 30_000;
    }
    now = Date.UTC(2026, 0, 1) + 250_000;
    expect(await strategy.readToken(token, manager)).toBeNull();
    expect(tokens.tokens.size).toBe(0);
  });

  it("ASVS 5.0 7.4.1: destroyToken deletes the row; the token no longer reads", async () => {
    const strategy = make();
    const token = await strategy.writeToken(user);
    await strategy.destroyToken(token, user);
    expect(tokens.tokens.size).toBe(0);
    expect(await strategy.readToken(token, manager)).toBeNull();
  });

  it("destroyToken leaves another user's token alone", async () => {
    const strategy = make();
    const other = await users.create({ ...user, email: "other@example.com" });
    const token = await strategy.writeToken(other);
    await strategy.destroyToken(token, user);
    expect((await strategy.readToken(token, manager))?.id).toBe(other.id);
  });

  it("destroyAllTokens logs out every device of the user and no one else", async () => {
    const strategy = make();
    const a = await strategy.writeToken(user);
    const b = await strategy.writeToken(user);
    const other = await users.create({ ...user, email: "other2@example.com" });
    const c = await strategy.writeToken(other);
    await strategy.destroyAllTokens(user);
    expect(await strategy.readToken(a, manager)).toBeNull();
    expect(await strategy.readToken(b, manager)).toBeNull();
    expect(await strategy.readToken(c, manager)).not.toBeNull();
  });

  it("ASVS 5.0 7.4.3: destroyAllTokens with exceptToken keeps that session and ends the others", async () => {
    const strategy = make();
    const [current, other1, other2] = [
      await strategy.writeToken(user),
      await strategy.writeToken(user),
      await strategy.writeToken(user),
    ];
    await strategy.destroyAllTokens(user, { exceptToken: current });
    expect(await strategy.readToken(current, manager)).not.toBeNull();
    expect(await strategy.readToken(other1, manager)).toBeNull();
    expect(await strategy.readToken(other2, manager)).toBeNull();
  });

  it("destroyAllTokens with a token that is not one of the user's ends every session", async () => {
    const strategy = make();
    const a = await strategy.writeToken(user);
    const other = await users.create({ ...user, email: "other3@example.com" });
    const theirs = await strategy.writeToken(other);
    for (const exceptToken of ["not-a-token", theirs]) {
      await strategy.destroyAllTokens(user, { exceptToken });
    }
    expect(await strategy.readToken(a, manager)).toBeNull();
    expect(await strategy.readToken(theirs, manager)).not.toBeNull();
  });

  it("deleteExpired removes expired rows only", async () => {
    const strategy = make({ lifetimeSeconds: 60 });
    await strategy.writeToken(user);
    now += 30_000;
    await strategy.writeToken(user);
    now += 31_000;
    expect(await strategy.deleteExpired()).toBe(1);
    expect(tokens.tokens.size).toBe(1);
  });

  it("rejects invalid lifetimes at construction", () => {
    expect(() => make({ lifetimeSeconds: 0 })).toThrow(ConfigurationError);
    expect(() => make({ lifetimeSeconds: 100, maxLifetimeSeconds: 50 })).toThrow(
      ConfigurationError,
    );
  });
});

describe("DatabaseStrategy sessions", () => {
  it("lists live sessions by an id that is neither the token nor its digest, marking the current one", async () => {
    const strategy = make({ lifetimeSeconds: 60 });
    const expired = await strategy.writeToken(user);
    now += 61_000;
    const a = await strategy.writeToken(user);
    const b = await strategy.writeToken(user);
    const sessions = (await strategy.listSessions?.(user, b)) ?? [];
    expect(sessions).toHaveLength(2);
    for (const s of sessions) {
      expect([a, b, expired, hashToken(a), hashToken(b)]).not.toContain(s.id);
      expect(s.expiresAt.getTime()).toBe(now + 60_000);
    }
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
  });

  it("destroySession ends one session of the owner only", async () => {
    const strategy = make();
    const a = await strategy.writeToken(user);
    const b = await strategy.writeToken(user);
    const other = await users.create({ ...user, email: "o3@example.com" });
    const [sessionA] = (await strategy.listSessions?.(user, a))?.filter((s) => s.current) ?? [];
    if (!sessionA) throw new Error("no current session");
    expect(await strategy.destroySession?.(other, sessionA.id)).toBe(false);
    expect(await strategy.destroySession?.(user, sessionA.id)).toBe(true);
    expect(await strategy.readToken(a, manager)).toBeNull();
    expect(await strategy.readToken(b, manager)).not.toBeNull();
  });

  it("is absent when the database cannot list tokens", () => {
    const strategy = make({ join: false });
    expect(strategy.listSessions).toBeUndefined();
    expect(strategy.destroySession).toBeUndefined();
  });
});

describe("DatabaseStrategy on its session store", () => {
  it("readSession returns the user and the session in the one read of readToken, no write", async () => {
    const strategy = make();
    const token = await strategy.writeSession(user, {
      device: { ipAddress: "192.0.2.1", userAgent: "test" },
      data: { theme: "dark" },
      claims: { role: "admin" },
    });
    let reads = 0;
    const read = tokens.getByTokenWithUser.bind(tokens);
    tokens.getByTokenWithUser = (digest) => {
      reads++;
      return read(digest);
    };
    const found = await strategy.readSession(token, manager);
    expect(reads).toBe(1);
    expect(tokens.updates).toBe(0);
    expect(found?.user.id).toBe(user.id);
    expect(found?.session).toMatchObject({
      userId: user.id,
      claims: { role: "admin" },
      device: { ipAddress: "192.0.2.1", userAgent: "test" },
    });
    expect(await strategy.sessions.getSessionData(found?.session.handle ?? "")).toEqual({
      theme: "dark",
    });
    expect(await strategy.readSession("x".repeat(43), manager)).toBeNull();
  });

  it("readToken is readSession's user; writeToken makes a session without data or claims", async () => {
    const strategy = make();
    const token = await strategy.writeToken(user);
    expect(await strategy.readToken(token, manager)).toEqual(
      (await strategy.readSession(token, manager))?.user,
    );
    const session = await strategy.sessions.validateSession(token);
    expect(session?.claims).toEqual({});
    expect(await strategy.sessions.getSessionData(session?.handle ?? "")).toEqual({});
  });

  it("listSessions shows the device and last use; the id is the session's handle", async () => {
    const strategy = make({ lifetimeSeconds: 100 });
    const token = await strategy.writeSession(user, { device: { userAgent: "phone" } });
    now += 60_000;
    const session = (await strategy.readSession(token, manager))?.session;
    const [info] = (await strategy.listSessions?.(user, token)) ?? [];
    expect(info).toMatchObject({
      id: session?.handle,
      current: true,
      lastUsedAt: new Date(now),
      device: { ipAddress: null, userAgent: "phone" },
    });
  });
});
