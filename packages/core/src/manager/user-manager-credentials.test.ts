// Changing credentials: the current password proves it is the user (ASVS 5.0 6.2.3,
// 7.5.1), a self-service password change keeps the session that made it (7.4.3), and
// compare-and-set writes keep racing changes from both winning (15.4.2).
import { describe, expect, it } from "vitest";
import {
  InvalidCurrentPasswordError,
  InvalidResetPasswordTokenError,
  UserUpdateConflictError,
} from "../errors.js";
import type { UserUpdate } from "../models.js";
import { PasswordHelper } from "../password/password-helper.js";
import type { Strategy, UserChange } from "../strategy/base.js";
import { makeManager, makeRecordingManager, PASSWORD, register } from "../test-utils/manager.js";
import type { MemoryUser } from "../testing/memory.js";

const NEW_PASSWORD = "a brand new passphrase";

describe("UserManager.update with requireCurrentPassword", () => {
  const self = { safe: true, requireCurrentPassword: true } as const;

  it("ASVS 5.0 6.2.3: a new password needs the current one; missing or wrong -> InvalidCurrentPasswordError, nothing changed", async () => {
    const { manager, userDb } = makeManager();
    const user = await register(manager, "ann@example.com");
    for (const currentPassword of [undefined, null, "", "not the password"]) {
      await expect(
        manager.update({ password: NEW_PASSWORD }, user, { ...self, currentPassword }),
      ).rejects.toBeInstanceOf(InvalidCurrentPasswordError);
    }
    expect(userDb.users.get(user.id)?.hashedPassword).toBe(user.hashedPassword);
    const updated = await manager.update({ password: NEW_PASSWORD }, user, {
      ...self,
      currentPassword: PASSWORD,
    });
    expect(updated.hashedPassword).not.toBe(user.hashedPassword);
  });

  it("ASVS 5.0 7.5.1: a new email needs the current password; the same email (any case) does not", async () => {
    const { manager } = makeManager();
    const user = await register(manager, "ben@example.com");
    await expect(
      manager.update({ email: "ben.new@example.com" }, user, self),
    ).rejects.toBeInstanceOf(InvalidCurrentPasswordError);
    expect(
      await manager.update({ email: "BEN@example.com", nickname: "B" }, user, self),
    ).toMatchObject({ email: "ben@example.com", nickname: "B" });
    expect(
      await manager.update({ email: "ben.new@example.com" }, user, {
        ...self,
        currentPassword: PASSWORD,
      }),
    ).toMatchObject({ email: "ben.new@example.com" });
  });

  it("other fields and null password/email need no current password", async () => {
    const { manager } = makeManager();
    const user = await register(manager, "cid@example.com");
    const updated = await manager.update(
      // A JSON body may send null for "unchanged" (as FastAPI Users).
      { nickname: "C", password: null, email: null } as unknown as UserUpdate,
      user,
      self,
    );
    expect(updated).toMatchObject({ nickname: "C", hashedPassword: user.hashedPassword });
  });

  it("without requireCurrentPassword (an admin, a script) nothing is asked", async () => {
    const { manager } = makeManager();
    const user = await register(manager, "dee@example.com");
    await expect(manager.update({ password: NEW_PASSWORD }, user)).resolves.toBeDefined();
  });

  it("currentPassword is never stored as a field", async () => {
    const { manager, userDb } = makeManager();
    const user = await register(manager, "eve@example.com");
    await manager.update({ nickname: "E", currentPassword: PASSWORD }, user, self);
    expect(userDb.users.get(user.id)).not.toHaveProperty("currentPassword");
  });

  it("ASVS 5.0 15.4.2: two concurrent changes proven with the same current password -> one wins, the other InvalidCurrentPasswordError", async () => {
    const { manager, userDb } = makeManager();
    const user = await register(manager, "fin@example.com");
    const results = await Promise.allSettled(
      ["first new password", "second new password"].map((password) =>
        manager.update({ password }, user, { ...self, currentPassword: PASSWORD }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(InvalidCurrentPasswordError);
    const won = (
      results.find((r) => r.status === "fulfilled") as PromiseFulfilledResult<MemoryUser>
    ).value;
    expect(userDb.users.get(user.id)?.hashedPassword).toBe(won.hashedPassword);
  });
});

describe("password changes and the session that made them", () => {
  function recorder() {
    const changes: UserChange[] = [];
    const strategy: Strategy<MemoryUser, string> = {
      readToken: async () => null,
      writeToken: async () => "t",
      destroyToken: async () => {},
      destroyAllTokens: async () => {},
      onUserChanged: async (_user, change) => {
        changes.push(change);
      },
    };
    return { changes, source: { name: "r", getStrategy: () => strategy } };
  }

  it("ASVS 5.0 7.4.3: a change with currentToken revokes the other sessions, keeping that token", async () => {
    const r = recorder();
    const { manager } = makeManager({ backends: [r.source] });
    const user = await register(manager, "gil@example.com");
    await manager.update({ password: NEW_PASSWORD }, user, {
      requireCurrentPassword: true,
      currentPassword: PASSWORD,
      currentToken: "the-current-token",
    });
    expect(r.changes).toEqual([
      {
        kind: "password",
        fields: ["hashedPassword"],
        revokeSessions: true,
        exceptToken: "the-current-token",
      },
    ]);
  });

  it("logoutOtherSessionsOnPasswordChange: false keeps every session", async () => {
    const r = recorder();
    const { manager } = makeManager({
      backends: [r.source],
      logoutOtherSessionsOnPasswordChange: false,
    });
    const user = await register(manager, "hal@example.com");
    await manager.update({ password: NEW_PASSWORD }, user, { currentToken: "t" });
    expect(r.changes).toMatchObject([{ kind: "password", revokeSessions: false }]);
  });

  it("a change without currentToken (an admin) and a reset end every session", async () => {
    const r = recorder();
    const { manager, tokens } = makeRecordingManager({
      backends: [r.source],
      logoutOtherSessionsOnPasswordChange: false,
    });
    const user = await register(manager, "ian@example.com");
    const changed = await manager.update({ password: NEW_PASSWORD }, user);
    await manager.forgotPassword(changed);
    await manager.resetPassword(tokens.reset as string, "yet another passphrase");
    expect(r.changes).toHaveLength(2);
    for (const change of r.changes) {
      expect(change).toMatchObject({ kind: "password", revokeSessions: true });
      expect(change.exceptToken).toBeUndefined();
    }
  });

  it("strategies without onUserChanged get destroyAllTokens with the token to keep", async () => {
    const calls: unknown[] = [];
    const strategy: Strategy<MemoryUser, string> = {
      readToken: async () => null,
      writeToken: async () => "t",
      destroyToken: async () => {},
      destroyAllTokens: async (_user, options) => {
        calls.push(options);
      },
    };
    const { manager } = makeManager({ backends: [{ name: "d", getStrategy: () => strategy }] });
    const user = await register(manager, "jo@example.com");
    await manager.update({ password: NEW_PASSWORD }, user, { currentToken: "keep-me" });
    await manager.update({ password: "and another one" }, { ...user, hashedPassword: "" });
    expect(calls).toEqual([{ exceptToken: "keep-me" }, undefined]);
  });
});

describe("ASVS 5.0 15.4.2: concurrent password resets with one token", () => {
  it("at most one of 10 concurrent resets with one token succeeds; the others get InvalidResetPasswordTokenError", async () => {
    const { manager, tokens, userDb } = makeRecordingManager();
    const user = await register(manager, "kim@example.com");
    await manager.forgotPassword(user);
    const token = tokens.reset as string;
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => manager.resetPassword(token, `new password ${i}`)),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected") expect(r.reason).toBeInstanceOf(InvalidResetPasswordTokenError);
    }
    const winner = (won[0] as PromiseFulfilledResult<MemoryUser>).value;
    expect(userDb.users.get(user.id)?.hashedPassword).toBe(winner.hashedPassword);
  });

  it("a login's hash upgrade racing a reset never overwrites the new password", async () => {
    const real = new PasswordHelper();
    let onVerify = async () => {};
    const { manager, userDb } = makeManager({
      passwordHelper: {
        hash: (password) => real.hash(password),
        generate: () => real.generate(),
        // The stored hash "needs an upgrade", and a reset lands between verify and upgrade.
        verifyAndUpdate: async (password, hash) => {
          const result = await real.verifyAndUpdate(password, hash);
          await onVerify();
          return { ...result, updatedHash: "upgraded-old-password" };
        },
      },
    });
    const user = await register(manager, "lou@example.com");
    onVerify = async () => {
      await userDb.update(user, { hashedPassword: "set-by-a-concurrent-reset" });
    };
    expect(await manager.authenticate({ username: user.email, password: PASSWORD })).toBeNull();
    expect(userDb.users.get(user.id)?.hashedPassword).toBe("set-by-a-concurrent-reset");
  });

  it("UserUpdateConflictError is what the memory store throws on a stale hash", async () => {
    const { manager, userDb } = makeManager();
    const user = await register(manager, "max@example.com");
    await expect(
      userDb.update(user, { isVerified: true }, { expectedHashedPassword: "stale" }),
    ).rejects.toBeInstanceOf(UserUpdateConflictError);
  });
});
