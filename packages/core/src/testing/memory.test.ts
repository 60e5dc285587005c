import { describe, expect, it } from "vitest";
import { UserAlreadyExistsError } from "../errors.js";
import { MemoryAccessTokenDatabase, MemoryUserDatabase } from "./memory.js";

const data = (email: string) => ({
  email,
  hashedPassword: "h",
  isActive: true,
  isSuperuser: false,
  isVerified: false,
});

describe("MemoryUserDatabase", () => {
  it("creates users with UUIDs and finds them by id and email (any case)", async () => {
    const db = new MemoryUserDatabase();
    const user = await db.create(data("a@example.com"));
    expect(user.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await db.get(user.id)).toEqual(user);
    expect(await db.getByEmail("A@EXAMPLE.COM")).toEqual(user);
    expect(await db.get("missing")).toBeNull();
    expect(await db.getByEmail("b@example.com")).toBeNull();
  });

  it("enforces email uniqueness on create and update, like a unique index", async () => {
    const db = new MemoryUserDatabase();
    await db.create(data("a@example.com"));
    const b = await db.create(data("b@example.com"));
    await expect(db.create(data("A@example.com"))).rejects.toBeInstanceOf(UserAlreadyExistsError);
    await expect(db.update(b, { email: "a@example.com" })).rejects.toBeInstanceOf(
      UserAlreadyExistsError,
    );
    const moved = await db.update(b, { email: "c@example.com" });
    expect(await db.getByEmail("b@example.com")).toBeNull();
    expect(await db.getByEmail("c@example.com")).toEqual(moved);
  });

  // Bug: the store kept the email as given ("Grace@Example.COM") and only indexed it
  // lower-cased, failing the adapter conformance suite it is the reference for.
  it("stores emails normalized, on create and on update (conformance: stored normalized)", async () => {
    const db = new MemoryUserDatabase();
    const user = await db.create(data(" Grace.Hopper@Example.COM"));
    expect(user.email).toBe("grace.hopper@example.com");
    expect(await db.getByEmail("ＧＲＡＣＥ.hopper@example.com")).toEqual(user);
    const updated = await db.update(user, { email: "Grace@Example.org" });
    expect(updated.email).toBe("grace@example.org");
    expect(db.users.get(user.id)?.email).toBe("grace@example.org");
    expect(await db.getByEmail("grace.hopper@example.com")).toBeNull();
  });

  it("hands out copies: mutating a returned user does not change the store", async () => {
    const db = new MemoryUserDatabase();
    const user = await db.create(data("a@example.com"));
    user.isSuperuser = true;
    expect((await db.get(user.id))?.isSuperuser).toBe(false);
  });

  it("deletes users and frees their email", async () => {
    const db = new MemoryUserDatabase();
    const user = await db.create(data("a@example.com"));
    await db.delete(user);
    expect(await db.get(user.id)).toBeNull();
    await expect(db.create(data("a@example.com"))).resolves.toBeDefined();
  });
});

describe("MemoryAccessTokenDatabase", () => {
  it("stores tokens by digest, joins the user, updates, deletes and expires", async () => {
    const users = new MemoryUserDatabase();
    const user = await users.create(data("a@example.com"));
    const db = new MemoryAccessTokenDatabase(users);
    const t0 = new Date("2030-01-01T00:00:00Z");
    const at = await db.create({
      token: "d1",
      userId: user.id,
      createdAt: t0,
      lifetimeSeconds: 60,
    });
    await db.create({ token: "d2", userId: user.id, createdAt: t0, lifetimeSeconds: 3600 });
    await db.create({ token: "d3", userId: "other", createdAt: t0, lifetimeSeconds: 60 });
    expect(await db.getByToken("d1")).toEqual(at);
    expect(await db.getByTokenWithUser("d1")).toEqual({ accessToken: at, user });
    expect(await db.getByTokenWithUser("d3")).toBeNull();
    expect((await db.update(at, { lifetimeSeconds: 120 })).lifetimeSeconds).toBe(120);
    expect(await db.deleteExpired(new Date(t0.getTime() + 120_000))).toBe(2);
    expect([...db.tokens.keys()]).toEqual(["d2"]);
    await db.deleteAllForUser(user.id);
    expect(db.tokens.size).toBe(0);
  });

  // Bug: deleting a user left its access tokens behind (no cascade), unlike a database
  // with a foreign key, and unlike what the adapter conformance suite requires.
  it("deletes a user's tokens with the user (conformance: cascade)", async () => {
    const users = new MemoryUserDatabase();
    const db = new MemoryAccessTokenDatabase(users);
    const alice = await users.create(data("alice@example.com"));
    const bob = await users.create(data("bob@example.com"));
    const createdAt = new Date();
    await db.create({ token: "a1", userId: alice.id, createdAt, lifetimeSeconds: 60 });
    await db.create({ token: "b1", userId: bob.id, createdAt, lifetimeSeconds: 60 });
    await users.delete(alice);
    expect(await db.getByToken("a1")).toBeNull();
    expect(await db.getByToken("b1")).not.toBeNull();
  });
});
