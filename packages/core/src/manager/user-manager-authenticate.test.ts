import * as bcrypt from "@node-rs/bcrypt";
import { describe, expect, it } from "vitest";
import { PasswordHelper } from "../password/password-helper.js";
import { makeManager, PASSWORD, register } from "../test-utils/manager.js";

/** A real PasswordHelper that counts its calls. */
class CountingPasswordHelper extends PasswordHelper {
  hashes = 0;
  verifies = 0;
  override hash(password: string): Promise<string> {
    this.hashes++;
    return super.hash(password);
  }
  override verifyAndUpdate(password: string, hash: string) {
    this.verifies++;
    return super.verifyAndUpdate(password, hash);
  }
}

describe("UserManager.authenticate", () => {
  it("returns the user for the right password, with the email in any case", async () => {
    const { manager } = makeManager();
    const user = await register(manager, "alice@example.com");
    expect(
      await manager.authenticate({ username: "alice@example.com", password: PASSWORD }),
    ).toEqual(user);
    expect(
      await manager.authenticate({ username: " ALICE@Example.com ", password: PASSWORD }),
    ).toEqual(user);
  });

  it("returns null for a wrong password", async () => {
    const { manager } = makeManager();
    await register(manager, "bob@example.com");
    expect(
      await manager.authenticate({ username: "bob@example.com", password: "wrong password" }),
    ).toBeNull();
    expect(await manager.authenticate({ username: "bob@example.com", password: "" })).toBeNull();
  });

  it("returns null for an unknown email, after spending one hash on it", async () => {
    const passwordHelper = new CountingPasswordHelper();
    const { manager } = makeManager({ passwordHelper });
    await register(manager, "carol@example.com");
    passwordHelper.hashes = 0;
    expect(
      await manager.authenticate({ username: "nobody@example.com", password: PASSWORD }),
    ).toBeNull();
    expect(passwordHelper.hashes).toBe(1);
    expect(passwordHelper.verifies).toBe(0);
  });

  it("returns inactive users too: the caller decides (login answers 400)", async () => {
    const { manager } = makeManager();
    await register(manager, "dave@example.com", { isActive: false });
    expect(
      await manager.authenticate({ username: "dave@example.com", password: PASSWORD }),
    ).toMatchObject({ isActive: false });
  });

  it("upgrades a legacy bcrypt hash to argon2id on login", async () => {
    const { manager, userDb } = makeManager();
    const user = await register(manager, "erin@example.com");
    const legacy = await bcrypt.hash(PASSWORD, { cost: 4 });
    await userDb.update(user, { hashedPassword: legacy });

    const loggedIn = await manager.authenticate({
      username: "erin@example.com",
      password: PASSWORD,
    });
    expect(loggedIn?.hashedPassword).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(userDb.users.get(user.id)?.hashedPassword).toBe(loggedIn?.hashedPassword);
    // The upgraded hash still logs in; a wrong password still fails.
    expect(
      await manager.authenticate({ username: "erin@example.com", password: PASSWORD }),
    ).not.toBeNull();
    expect(
      await manager.authenticate({ username: "erin@example.com", password: "nope nope" }),
    ).toBeNull();
  });

  it("does not touch a bcrypt hash on a failed login", async () => {
    const { manager, userDb } = makeManager();
    const user = await register(manager, "fay@example.com");
    const legacy = await bcrypt.hash(PASSWORD, { cost: 4 });
    await userDb.update(user, { hashedPassword: legacy });
    expect(
      await manager.authenticate({ username: "fay@example.com", password: "wrong one" }),
    ).toBeNull();
    expect(userDb.users.get(user.id)?.hashedPassword).toBe(legacy);
  });

  it("fails, without throwing, for a user whose stored hash is unusable", async () => {
    const { manager, userDb } = makeManager();
    const user = await register(manager, "gus@example.com");
    await userDb.update(user, { hashedPassword: "" });
    expect(
      await manager.authenticate({ username: "gus@example.com", password: PASSWORD }),
    ).toBeNull();
  });
});
