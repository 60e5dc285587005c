import { describe, expect, it } from "vitest";
import { InvalidPasswordError, UserAlreadyExistsError } from "../errors.js";
import type { UserUpdate } from "../models.js";
import { makeManager, makeRecordingManager, PASSWORD, register } from "../test-utils/manager.js";

describe("UserManager.update", () => {
  it("changes the email (normalized) and starts verification over", async () => {
    const { manager, userDb } = makeManager();
    const user = await register(manager, "alice@example.com", { isVerified: true });
    const updated = await manager.update({ email: " Alice.New@Example.com" }, user);
    expect(updated).toMatchObject({ email: "alice.new@example.com", isVerified: false });
    expect(await userDb.getByEmail("alice@example.com")).toBeNull();
    expect(
      await manager.authenticate({ username: "alice.new@example.com", password: PASSWORD }),
    ).not.toBeNull();
  });

  it("keeps verification when the 'new' email is the same one in another case", async () => {
    const { manager } = makeManager();
    const user = await register(manager, "bob@example.com", { isVerified: true });
    expect(await manager.update({ email: "BOB@example.com" }, user)).toMatchObject({
      email: "bob@example.com",
      isVerified: true,
    });
  });

  it("refuses an email another user has, in any case", async () => {
    const { manager, userDb } = makeManager();
    await register(manager, "carol@example.com");
    const user = await register(manager, "dave@example.com");
    await expect(manager.update({ email: "CAROL@example.com" }, user)).rejects.toBeInstanceOf(
      UserAlreadyExistsError,
    );
    expect(userDb.users.get(user.id)?.email).toBe("dave@example.com");
  });

  it("rehashes a new password, validated first", async () => {
    const { manager } = makeManager();
    const user = await register(manager, "erin@example.com");
    await expect(manager.update({ password: "short" }, user)).rejects.toBeInstanceOf(
      InvalidPasswordError,
    );
    const updated = await manager.update({ password: "another good password" }, user);
    expect(updated.hashedPassword).toMatch(/^\$argon2id\$/);
    expect(updated.hashedPassword).not.toBe(user.hashedPassword);
    expect(updated).not.toHaveProperty("password");
    expect(
      await manager.authenticate({ username: user.email, password: "another good password" }),
    ).not.toBeNull();
    expect(await manager.authenticate({ username: user.email, password: PASSWORD })).toBeNull();
  });

  it("drops privileged flags in safe mode, keeps them otherwise", async () => {
    const { manager } = makeManager();
    const user = await register(manager, "fay@example.com");
    const flags = { isSuperuser: true, isVerified: true, isActive: false };
    expect(await manager.update(flags, user, { safe: true })).toMatchObject({
      isSuperuser: false,
      isVerified: false,
      isActive: true,
    });
    expect(await manager.update(flags, user)).toMatchObject(flags);
  });

  it("updates extra fields, never id or hashedPassword", async () => {
    const { manager } = makeManager();
    const user = await register(manager, "gus@example.com");
    const updated = await manager.update(
      { nickname: "G", id: "00000000-0000-4000-8000-000000000000", hashedPassword: "forged" },
      user,
    );
    expect(updated).toMatchObject({
      id: user.id,
      hashedPassword: user.hashedPassword,
      nickname: "G",
    });
  });

  it("ignores undefined fields and returns the user unchanged for an empty update", async () => {
    const { manager } = makeManager();
    const user = await register(manager, "hal@example.com");
    expect(await manager.update({ email: undefined, password: undefined }, user)).toEqual(user);
    expect(await manager.update({}, user)).toEqual(user);
  });

  it("never lets __proto__ or constructor keys reach the stored user", async () => {
    const { manager, userDb } = makeManager();
    const user = await register(manager, "ivy@example.com");
    const input = JSON.parse(
      '{"nickname":"I","__proto__":{"isSuperuser":true},"constructor":{"prototype":{"x":1}}}',
    ) as UserUpdate;
    const updated = await manager.update(input, user);
    for (const stored of [updated, userDb.users.get(user.id)]) {
      expect(Object.getPrototypeOf(stored)).toBe(Object.prototype);
      expect(Object.hasOwn(stored as object, "__proto__")).toBe(false);
      expect(Object.hasOwn(stored as object, "constructor")).toBe(false);
      expect(stored).toMatchObject({ isSuperuser: false, nickname: "I" });
    }
  });

  // Bug: an unsafe update with both `isVerified: true` and a new email kept or dropped the
  // flag depending on key order ({email, isVerified} kept it, {isVerified, email} lost it).
  it("honours an explicit isVerified with an email change whatever the key order (order bug)", async () => {
    const { manager } = makeManager();
    const a = await register(manager, "jay@example.com");
    const b = await register(manager, "kim@example.com");
    expect(await manager.update({ isVerified: true, email: "jay2@example.com" }, a)).toMatchObject({
      isVerified: true,
    });
    expect(await manager.update({ email: "kim2@example.com", isVerified: true }, b)).toMatchObject({
      isVerified: true,
    });
    // In safe mode the flag is dropped, so an email change always clears it.
    const c = await register(manager, "lee@example.com", { isVerified: true });
    expect(
      await manager.update({ isVerified: true, email: "lee2@example.com" }, c, { safe: true }),
    ).toMatchObject({ isVerified: false });
  });

  // Bug: `null` email or password (a JSON body may send it) reached normalizeEmail /
  // validatePassword and threw a TypeError (a 500); FastAPI Users skips a None password.
  it("treats null email and password as not given (null TypeError)", async () => {
    const { manager } = makeManager();
    const user = await register(manager, "max@example.com");
    const input = JSON.parse('{"email":null,"password":null,"nickname":"M"}') as UserUpdate;
    expect(await manager.update(input, user)).toMatchObject({
      email: "max@example.com",
      hashedPassword: user.hashedPassword,
      nickname: "M",
    });
  });
});

describe("UserManager.delete", () => {
  it("deletes the user after onBeforeDelete, then calls onAfterDelete", async () => {
    const { manager, userDb, calls } = makeRecordingManager();
    const user = await register(manager, "ned@example.com");
    await manager.delete(user, "ctx");
    expect(userDb.users.size).toBe(0);
    expect(calls.map((c) => c.hook)).toEqual([
      "onAfterRegister",
      "onBeforeDelete",
      "onAfterDelete",
    ]);
  });

  it("does not delete when onBeforeDelete vetoes by throwing", async () => {
    const veto = new Error("has open invoices");
    const { manager, userDb, calls, hooks } = makeRecordingManager();
    hooks.onBeforeDelete = () => {
      throw veto;
    };
    const user = await register(manager, "oz@example.com");
    await expect(manager.delete(user)).rejects.toBe(veto);
    expect(userDb.users.has(user.id)).toBe(true);
    expect(calls.map((c) => c.hook)).toEqual(["onAfterRegister"]);
  });
});
