import { describe, expect, it } from "vitest";
import { InvalidPasswordError } from "../errors.js";
import { UserManager } from "../manager/user-manager.js";
import type { UserCreate } from "../models.js";
import { makeManager, register } from "../test-utils/manager.js";
import type { MemoryUser } from "../testing/memory.js";
import { commonPasswords } from "./common-passwords.js";
import { checkPasswordLength, PASSWORD_REASONS } from "./password-policy.js";

async function rejection(promise: Promise<unknown>): Promise<InvalidPasswordError> {
  const error = await promise.then(
    () => expect.fail("expected an InvalidPasswordError"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidPasswordError);
  return error as InvalidPasswordError;
}

describe("default validatePassword", () => {
  const { manager } = makeManager();
  const input = { email: "a@example.com", password: "" };

  it("rejects 7 characters with a reason, accepts 8", async () => {
    const error = await rejection(manager.validatePassword("1234567", input));
    expect(error.reason).toBe("Password should be at least 8 characters");
    expect(error.code).toBe("INVALID_PASSWORD");
    await expect(manager.validatePassword("12345678", input)).resolves.toBeUndefined();
  });

  it("accepts 1024 characters, rejects 1025 with a reason", async () => {
    await expect(manager.validatePassword("a".repeat(1024), input)).resolves.toBeUndefined();
    const error = await rejection(manager.validatePassword("a".repeat(1025), input));
    expect(error.reason).toBe("Password should be at most 1024 characters");
  });

  it("counts Unicode code points, not UTF-16 units", async () => {
    expect("🔑".repeat(7).length).toBe(14);
    await rejection(manager.validatePassword("🔑".repeat(7), input));
    await expect(manager.validatePassword("🔑".repeat(8), input)).resolves.toBeUndefined();
    await expect(manager.validatePassword("🔑".repeat(1024), input)).resolves.toBeUndefined();
    await rejection(manager.validatePassword("🔑".repeat(1025), input));
    await expect(manager.validatePassword("пароль密码", input)).resolves.toBeUndefined();
  });

  it("allows spaces and any composition (no composition rules)", async () => {
    await expect(manager.validatePassword("        ", input)).resolves.toBeUndefined();
    await expect(manager.validatePassword("aaaaaaaa", input)).resolves.toBeUndefined();
  });

  it("follows passwordPolicy bounds", async () => {
    const { manager: strict } = makeManager({ passwordPolicy: { minLength: 12, maxLength: 16 } });
    const short = await rejection(strict.validatePassword("a".repeat(11), input));
    expect(short.reason).toBe("Password should be at least 12 characters");
    await expect(strict.validatePassword("a".repeat(16), input)).resolves.toBeUndefined();
    await rejection(strict.validatePassword("a".repeat(17), input));
  });

  // Bug: a missing or non-string password (a bypassed or absent body schema) made
  // `for…of` throw a TypeError, a 500 instead of a 400 INVALID_PASSWORD.
  it.each([undefined, null, 12345678, ["12345678"]])(
    "rejects the non-string password %o with InvalidPasswordError (non-string TypeError)",
    async (password) => {
      expect(() => checkPasswordLength(password as unknown as string)).toThrow(
        InvalidPasswordError,
      );
    },
  );
});

describe("overridden validatePassword", () => {
  class NoEmailInPassword extends UserManager<MemoryUser, string> {
    override async validatePassword(password: string, user: UserCreate | MemoryUser) {
      await super.validatePassword(password, user);
      if (password.includes(user.email.split("@")[0] ?? "")) {
        throw new InvalidPasswordError("Password should not contain the e-mail");
      }
    }
  }
  const setup = () => {
    const { userDb } = makeManager();
    const manager = new NoEmailInPassword({
      userDb,
      verificationTokenSecret: "v".repeat(32),
      resetPasswordTokenSecret: "r".repeat(32),
    });
    return { manager, userDb };
  };

  it("propagates its reason from create, and the default rule still applies", async () => {
    const { manager, userDb } = setup();
    const error = await rejection(
      manager.create({ email: "alice@example.com", password: "alice-secret-123" }),
    );
    expect(error.reason).toBe("Password should not contain the e-mail");
    await rejection(manager.create({ email: "bob@example.com", password: "short" }));
    expect(userDb.users.size).toBe(0);
  });

  it("propagates its reason from update", async () => {
    const { manager } = setup();
    const user = await register(manager, "carol@example.com");
    const error = await rejection(manager.update({ password: "carol-new-password" }, user));
    expect(error.reason).toBe("Password should not contain the e-mail");
  });
});

describe("common, forbidden and breached passwords", () => {
  const input = { email: "a@example.com", password: "" };
  it("ASVS 5.0 6.2.4: rejectCommonPasswords refuses the bundled top 10,000 (any case), with a reason", async () => {
    const { manager } = makeManager({ passwordPolicy: { rejectCommonPasswords: true } });
    for (const password of ["password", "Password1", "QWERTYUIOP", "iloveyou", "12345678"]) {
      const error = await rejection(manager.validatePassword(password, input));
      expect(error.reason).toBe(PASSWORD_REASONS.common);
    }
    await expect(
      manager.validatePassword("correct horse battery staple", input),
    ).resolves.toBeUndefined();
    expect((await commonPasswords()).size).toBe(10_000);
    for (const p of await commonPasswords()) expect([...p].length).toBeGreaterThanOrEqual(8);
  });

  it("the list is off by default", async () => {
    const { manager } = makeManager();
    await expect(manager.validatePassword("password", input)).resolves.toBeUndefined();
  });

  it("ASVS 5.0 6.2.11: forbiddenPasswords refuses context-specific words, any case or width", async () => {
    const { manager } = makeManager({
      passwordPolicy: { forbiddenPasswords: ["tessera-rocks", "Acme Corp 2026"] },
    });
    for (const password of ["TESSERA-ROCKS", "acme corp 2026", "ｔｅｓｓｅｒａ-ｒｏｃｋｓ"]) {
      const error = await rejection(manager.validatePassword(password, input));
      expect(error.reason).toBe(PASSWORD_REASONS.forbidden);
    }
  });

  it("ASVS 5.0 6.2.12: isBreached is asked after the length checks; true refuses", async () => {
    const asked: string[] = [];
    const { manager } = makeManager({
      passwordPolicy: {
        isBreached: async (password) => {
          asked.push(password);
          return password === "breached password";
        },
      },
    });
    const error = await rejection(manager.validatePassword("breached password", input));
    expect(error.reason).toBe(PASSWORD_REASONS.breached);
    await rejection(manager.validatePassword("short", input));
    await expect(manager.validatePassword("a fine passphrase", input)).resolves.toBeUndefined();
    expect(asked).toEqual(["breached password", "a fine passphrase"]);
  });

  it("the length bounds are checked before any list or hashing (a 1 MB password costs nothing)", async () => {
    let asked = false;
    const { manager } = makeManager({
      passwordPolicy: {
        rejectCommonPasswords: true,
        isBreached: () => {
          asked = true;
          return false;
        },
      },
    });
    await rejection(manager.validatePassword("a".repeat(1_000_000), input));
    expect(asked).toBe(false);
  });
});
