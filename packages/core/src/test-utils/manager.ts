/**
 * Shared fixtures of core's unit tests (not built, not published): a user manager on
 * the in-memory store, and hooks that record what they were called with.
 */
import type { UserManagerHookName, UserManagerHooks } from "../manager/hooks.js";
import type { UserManagerOptions } from "../manager/options.js";
import { UserManager } from "../manager/user-manager.js";
import type { UserCreate } from "../models.js";
import { type MemoryUser, MemoryUserDatabase } from "../testing/memory.js";

export const VERIFY_SECRET = "verify-secret-0123456789-abcdefghijklmnop";
export const RESET_SECRET = "reset-secret-0123456789-abcdefghijklmnopq";
export const PASSWORD = "correct horse battery staple";

export type TestManager = UserManager<MemoryUser, string>;

/** A user manager over a fresh {@link MemoryUserDatabase}. */
export function makeManager(overrides: Partial<UserManagerOptions<MemoryUser, string>> = {}): {
  manager: TestManager;
  userDb: MemoryUserDatabase;
} {
  const userDb = new MemoryUserDatabase();
  const manager = new UserManager<MemoryUser, string>({
    userDb,
    verificationTokenSecret: VERIFY_SECRET,
    resetPasswordTokenSecret: RESET_SECRET,
    ...overrides,
  });
  return { manager, userDb };
}

/** One recorded hook call. */
export interface HookCall {
  hook: UserManagerHookName;
  args: unknown[];
}

/** Hooks that record every call, plus the last verify and reset tokens they were given. */
export function recordingHooks(): {
  hooks: UserManagerHooks<MemoryUser>;
  calls: HookCall[];
  tokens: { verify?: string; reset?: string };
} {
  const calls: HookCall[] = [];
  const tokens: { verify?: string; reset?: string } = {};
  const record =
    (hook: UserManagerHookName) =>
    (...args: unknown[]) => {
      calls.push({ hook, args });
    };
  const hooks: UserManagerHooks<MemoryUser> = {
    onAfterRegister: record("onAfterRegister"),
    onAfterLogin: record("onAfterLogin"),
    onAfterUpdate: record("onAfterUpdate"),
    onAfterRequestVerify: (user, token, context) => {
      tokens.verify = token;
      calls.push({ hook: "onAfterRequestVerify", args: [user, token, context] });
    },
    onAfterVerify: record("onAfterVerify"),
    onAfterForgotPassword: (user, token, context) => {
      tokens.reset = token;
      calls.push({ hook: "onAfterForgotPassword", args: [user, token, context] });
    },
    onAfterResetPassword: record("onAfterResetPassword"),
    onBeforeDelete: record("onBeforeDelete"),
    onAfterDelete: record("onAfterDelete"),
    onTokenTheftDetected: record("onTokenTheftDetected"),
    onSecurityEvent: record("onSecurityEvent"),
  };
  return { hooks, calls, tokens };
}

/** A manager whose hooks record calls and capture tokens. */
export function makeRecordingManager(
  overrides: Partial<UserManagerOptions<MemoryUser, string>> = {},
): ReturnType<typeof makeManager> & ReturnType<typeof recordingHooks> {
  const recording = recordingHooks();
  return { ...makeManager({ hooks: recording.hooks, ...overrides }), ...recording };
}

/** Registers a user with {@link PASSWORD} (unsafe, so flags may be set). */
export function register(
  manager: TestManager,
  email: string,
  extra: Partial<UserCreate> = {},
): Promise<MemoryUser> {
  return manager.create({ email, password: PASSWORD, ...extra });
}
