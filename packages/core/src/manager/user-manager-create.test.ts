import { describe, expect, it } from "vitest";
import {
  ConfigurationError,
  InvalidPasswordError,
  UserAlreadyExistsError,
  UserNotExistsError,
} from "../errors.js";
import type { UserCreate } from "../models.js";
import { PasswordHelper } from "../password/password-helper.js";
import { makeManager, PASSWORD, register } from "../test-utils/manager.js";
import { type MemoryUser, MemoryUserDatabase } from "../testing/memory.js";
import { UserManager } from "./user-manager.js";

describe("UserManager construction", () => {
  it.each([
    ["verificationTokenSecret", { verificationTokenSecret: "short" }],
    ["resetPasswordTokenSecret", { resetPasswordTokenSecret: "x".repeat(31) }],
    ["verificationTokenSecret", { verificationTokenSecret: new Uint8Array(16) }],
  ])("refuses a short %s with a ConfigurationError naming it", (name, overrides) => {
    expect(() => makeManager(overrides)).toThrow(ConfigurationError);
    expect(() => makeManager(overrides)).toThrow(name);
  });

  // Bug: bad token settings were accepted silently: a zero or negative lifetime made every
  // verify/reset token dead on arrival, a NaN one made jose throw (a 500) at the first
  // request, and an empty audience was signed as is.
  it.each([
    { verificationTokenLifetimeSeconds: 0 },
    { verificationTokenLifetimeSeconds: -60 },
    { resetPasswordTokenLifetimeSeconds: Number.NaN },
    { resetPasswordTokenLifetimeSeconds: 1.5 },
    { verificationTokenAudience: "" },
    { resetPasswordTokenAudience: "" },
  ])("refuses %o at construction (unchecked token settings)", (overrides) => {
    expect(() => makeManager(overrides)).toThrow(ConfigurationError);
  });

  it("accepts 32-byte secrets as bytes", () => {
    expect(() =>
      makeManager({
        verificationTokenSecret: new Uint8Array(32).fill(1),
        resetPasswordTokenSecret: new Uint8Array(32).fill(2),
      }),
    ).not.toThrow();
  });

  it("defaults to UUID ids and a shared argon2id PasswordHelper", () => {
    const { manager } = makeManager();
    expect(manager.parseId("8C1F4E1E-2A2B-4C3D-9E8F-0123456789AB")).toBe(
      "8c1f4e1e-2a2b-4c3d-9e8f-0123456789ab",
    );
    expect(manager.passwordHelper).toBeInstanceOf(PasswordHelper);
    expect(makeManager().manager.passwordHelper).toBe(manager.passwordHelper);
  });
});

describe("UserManager.create", () => {
  it("stores the normalized email, an argon2id hash and the default flags", async () => {
    const { manager, userDb } = makeManager();
    const user = await manager.create({ email: "  Alice@Example.COM ", password: PASSWORD });
    expect(user).toMatchObject({
      email: "alice@example.com",
      isActive: true,
      isSuperuser: false,
      isVerified: false,
    });
    expect(user.hashedPassword).toMatch(/^\$argon2id\$/);
    expect(user).not.toHaveProperty("password");
    expect(userDb.users.get(user.id)).toEqual(user);
  });

  it("normalizes full-width look-alikes (NFKC) onto the same account", async () => {
    const { manager } = makeManager();
    await register(manager, "bob@example.com");
    await expect(register(manager, "ｂｏｂ@ｅｘａｍｐｌｅ.ｃｏｍ")).rejects.toBeInstanceOf(
      UserAlreadyExistsError,
    );
  });

  it("refuses an existing email in another case with UserAlreadyExistsError", async () => {
    const { manager, userDb } = makeManager();
    await register(manager, "carol@example.com");
    await expect(register(manager, "CAROL@example.com")).rejects.toBeInstanceOf(
      UserAlreadyExistsError,
    );
    expect(userDb.users.size).toBe(1);
  });

  it("refuses an invalid password before storing anything", async () => {
    const { manager, userDb } = makeManager();
    await expect(manager.create({ email: "d@example.com", password: "short" })).rejects.toThrow(
      InvalidPasswordError,
    );
    expect(userDb.users.size).toBe(0);
  });

  it("drops isSuperuser, isVerified and isActive in safe mode", async () => {
    const { manager } = makeManager();
    const user = await manager.create(
      {
        email: "eve@example.com",
        password: PASSWORD,
        isSuperuser: true,
        isVerified: true,
        isActive: false,
      },
      { safe: true },
    );
    expect(user).toMatchObject({ isSuperuser: false, isVerified: false, isActive: true });
  });

  it("keeps the flags when not in safe mode", async () => {
    const { manager } = makeManager();
    const user = await register(manager, "root@example.com", {
      isSuperuser: true,
      isVerified: true,
      isActive: false,
    });
    expect(user).toMatchObject({ isSuperuser: true, isVerified: true, isActive: false });
  });

  it("keeps extra fields, but never a client's id or hashedPassword", async () => {
    const { manager } = makeManager();
    const user = await manager.create(
      {
        email: "frank@example.com",
        password: PASSWORD,
        firstName: "Frank",
        tags: ["a", "b"],
        id: "00000000-0000-4000-8000-000000000000",
        hashedPassword: "$argon2id$forged",
      },
      { safe: true },
    );
    expect(user.firstName).toBe("Frank");
    expect(user.tags).toEqual(["a", "b"]);
    expect(user.id).not.toBe("00000000-0000-4000-8000-000000000000");
    expect(user.hashedPassword).not.toBe("$argon2id$forged");
  });

  it("never lets __proto__ or constructor keys of the input reach the stored user", async () => {
    const { manager, userDb } = makeManager();
    // JSON.parse makes `__proto__` an own data property, as a parsed request body would.
    const input = JSON.parse(
      `{"email":"mallory@example.com","password":"${PASSWORD}",
        "__proto__":{"isSuperuser":true,"isVerified":true,"polluted":"yes"},
        "constructor":{"prototype":{"polluted":"yes"}}}`,
    ) as UserCreate;
    expect(Object.hasOwn(input, "__proto__")).toBe(true);
    for (const safe of [true, false]) {
      const user = await manager.create(
        { ...input, email: `${safe}-${input.email}` } as UserCreate,
        { safe },
      );
      for (const stored of [user, userDb.users.get(user.id)]) {
        expect(Object.getPrototypeOf(stored)).toBe(Object.prototype);
        expect(Object.hasOwn(stored as object, "__proto__")).toBe(false);
        expect(Object.hasOwn(stored as object, "constructor")).toBe(false);
        expect(stored).toMatchObject({ isSuperuser: false, isVerified: false });
        expect((stored as Record<string, unknown>).polluted).toBeUndefined();
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  // Bug: keys shaped like MongoDB operators or dotted paths were copied onto the user as
  // "extra fields"; handed to an adapter's `$set` they could write nested or privileged data.
  it("drops $-prefixed and dotted keys of the input (NoSQL operator injection)", async () => {
    const { manager, userDb } = makeManager();
    const input = JSON.parse(
      `{"email":"nosql@example.com","password":"${PASSWORD}","nickname":"n",
        "$set":{"isSuperuser":true},"profile.role":"admin","$where":"1"}`,
    ) as UserCreate;
    const user = await manager.create(input, { safe: true });
    expect(Object.keys(userDb.users.get(user.id) ?? {}).sort()).toEqual(
      ["email", "hashedPassword", "id", "isActive", "isSuperuser", "isVerified", "nickname"].sort(),
    );
  });

  it("creates exactly one user when 20 requests register one email concurrently", async () => {
    const { manager, userDb } = makeManager();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        register(manager, i % 2 ? "race@example.com" : "RACE@example.com"),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.filter((r) => r.status === "rejected");
    expect(rejected).toHaveLength(19);
    for (const r of rejected) expect(r.reason).toBeInstanceOf(UserAlreadyExistsError);
    expect(userDb.users.size).toBe(1);
  });
});

describe("UserManager.get / getByEmail", () => {
  it("finds users by id and by email in any case, or throws UserNotExistsError", async () => {
    const { manager } = makeManager();
    const user = await register(manager, "gina@example.com");
    expect(await manager.get(user.id)).toEqual(user);
    expect(await manager.getByEmail(" GINA@example.com")).toEqual(user);
    await expect(manager.get("8c1f4e1e-2a2b-4c3d-9e8f-0123456789ab")).rejects.toBeInstanceOf(
      UserNotExistsError,
    );
    await expect(manager.getByEmail("nobody@example.com")).rejects.toBeInstanceOf(
      UserNotExistsError,
    );
  });

  it("findByEmail: the user in any case, or null without an exception (ASVS 5.0 6.3.8: the routes that answer alike for unknown emails use it)", async () => {
    const { manager } = makeManager();
    const user = await register(manager, "hana@example.com");
    expect(await manager.findByEmail(" HANA@example.com")).toEqual(user);
    expect(await manager.findByEmail("nobody@example.com")).toBeNull();
  });

  it("getByEmail goes through findByEmail, so one override changes both", async () => {
    class Aliased extends UserManager<MemoryUser, string> {
      override async findByEmail(email: string): Promise<MemoryUser | null> {
        return super.findByEmail(email.replace("@alias.example", "@example.com"));
      }
    }
    const userDb = new MemoryUserDatabase();
    const manager = new Aliased({
      userDb,
      verificationTokenSecret: "v".repeat(32),
      resetPasswordTokenSecret: "r".repeat(32),
    });
    const user = await register(manager, "ida@example.com");
    expect(await manager.getByEmail("ida@alias.example")).toEqual(user);
  });

  it("works over any UserDatabase given to it", async () => {
    const userDb = new MemoryUserDatabase();
    const manager = new UserManager({
      userDb,
      verificationTokenSecret: "v".repeat(32),
      resetPasswordTokenSecret: "r".repeat(32),
    });
    const user = await manager.create({ email: "h@example.com", password: PASSWORD });
    expect(await userDb.get(user.id)).toEqual(user);
  });
});
