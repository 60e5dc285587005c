import { describe, expect, it } from "vitest";
import type { UserUpdate } from "../models.js";
import {
  type HookCall,
  makeManager,
  makeRecordingManager,
  PASSWORD,
  RESET_SECRET,
  VERIFY_SECRET,
} from "../test-utils/manager.js";
import type { MemoryUser } from "../testing/memory.js";
import { UserManager } from "./user-manager.js";

const CTX = { request: "the HTTP context" };

/**
 * Runs every operation that has a hook, with a context, and checks the recorded calls
 * (hook name and exact arguments) against what each operation returned.
 */
async function runLifecycle(manager: UserManager<MemoryUser, string>, calls: HookCall[]) {
  const user = await manager.create(
    { email: "hook@example.com", password: PASSWORD },
    { context: CTX },
  );
  expect(calls.at(-1)).toEqual({ hook: "onAfterRegister", args: [user, CTX] });

  await manager.onAfterLogin(user, CTX);
  expect(calls.at(-1)).toEqual({ hook: "onAfterLogin", args: [user, CTX] });

  await manager.requestVerify(user, CTX);
  const verifyCall = calls.at(-1);
  expect(verifyCall).toEqual({
    hook: "onAfterRequestVerify",
    args: [user, expect.any(String), CTX],
  });
  const verifyToken = verifyCall?.args[1] as string;

  const verified = await manager.verify(verifyToken, CTX);
  expect(calls.at(-1)).toEqual({ hook: "onAfterVerify", args: [verified, CTX] });
  expect(verified.isVerified).toBe(true);

  await manager.forgotPassword(verified, CTX);
  const forgotCall = calls.at(-1);
  expect(forgotCall).toEqual({
    hook: "onAfterForgotPassword",
    args: [verified, expect.any(String), CTX],
  });

  const reset = await manager.resetPassword(forgotCall?.args[1] as string, "new password 123", CTX);
  expect(calls.at(-1)).toEqual({ hook: "onAfterResetPassword", args: [reset, CTX] });

  const update: UserUpdate = { nickname: "Hooky" };
  const updated = await manager.update(update, reset, { context: CTX });
  expect(calls.at(-1)).toEqual({
    hook: "onAfterUpdate",
    args: [updated, { nickname: "Hooky" }, CTX],
  });

  await manager.delete(updated, CTX);
  expect(calls.slice(-2)).toEqual([
    { hook: "onBeforeDelete", args: [updated, CTX] },
    { hook: "onAfterDelete", args: [updated, CTX] },
  ]);

  expect(calls.map((c) => c.hook)).toEqual([
    "onAfterRegister",
    "onAfterLogin",
    "onAfterRequestVerify",
    "onAfterVerify",
    "onAfterForgotPassword",
    "onAfterResetPassword",
    "onAfterUpdate",
    "onBeforeDelete",
    "onAfterDelete",
  ]);
}

describe("UserManager hooks", () => {
  it("calls every options.hooks entry with the right arguments", async () => {
    const { manager, calls } = makeRecordingManager();
    await runLifecycle(manager, calls);
  });

  it("calls every overridden hook method of a subclass with the right arguments", async () => {
    const calls: HookCall[] = [];
    class AppUserManager extends UserManager<MemoryUser, string> {
      override async onAfterRegister(user: MemoryUser, context?: unknown) {
        calls.push({ hook: "onAfterRegister", args: [user, context] });
      }
      override async onAfterLogin(user: MemoryUser, context?: unknown) {
        calls.push({ hook: "onAfterLogin", args: [user, context] });
      }
      override async onAfterUpdate(user: MemoryUser, update: UserUpdate, context?: unknown) {
        calls.push({ hook: "onAfterUpdate", args: [user, update, context] });
      }
      override async onAfterRequestVerify(user: MemoryUser, token: string, context?: unknown) {
        calls.push({ hook: "onAfterRequestVerify", args: [user, token, context] });
      }
      override async onAfterVerify(user: MemoryUser, context?: unknown) {
        calls.push({ hook: "onAfterVerify", args: [user, context] });
      }
      override async onAfterForgotPassword(user: MemoryUser, token: string, context?: unknown) {
        calls.push({ hook: "onAfterForgotPassword", args: [user, token, context] });
      }
      override async onAfterResetPassword(user: MemoryUser, context?: unknown) {
        calls.push({ hook: "onAfterResetPassword", args: [user, context] });
      }
      override async onBeforeDelete(user: MemoryUser, context?: unknown) {
        calls.push({ hook: "onBeforeDelete", args: [user, context] });
      }
      override async onAfterDelete(user: MemoryUser, context?: unknown) {
        calls.push({ hook: "onAfterDelete", args: [user, context] });
      }
    }
    const { userDb } = makeManager();
    const manager = new AppUserManager({
      userDb,
      verificationTokenSecret: VERIFY_SECRET,
      resetPasswordTokenSecret: RESET_SECRET,
    });
    await runLifecycle(manager, calls);
  });

  it("passes an undefined context when called from a script", async () => {
    const { manager, calls } = makeRecordingManager();
    const user = await manager.create({ email: "script@example.com", password: PASSWORD });
    expect(calls).toEqual([{ hook: "onAfterRegister", args: [user, undefined] }]);
  });

  it("fails the call when a hook throws, but keeps the stored change", async () => {
    const boom = new Error("mail server down");
    const { manager, userDb } = makeManager({
      hooks: {
        onAfterRegister: () => {
          throw boom;
        },
      },
    });
    await expect(manager.create({ email: "x@example.com", password: PASSWORD })).rejects.toBe(boom);
    expect(await userDb.getByEmail("x@example.com")).not.toBeNull();
  });

  it("runs without any hooks", async () => {
    const { manager } = makeManager();
    const user = await manager.create({ email: "none@example.com", password: PASSWORD });
    await manager.requestVerify(user);
    await manager.forgotPassword(user);
    await manager.onAfterLogin(user);
    await manager.delete(user);
  });
});
