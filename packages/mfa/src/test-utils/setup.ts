/** A user manager on the in-memory database, a keyring, a clock the tests move, recorded events. */
import { type SecurityEvent, UserManager } from "@tessera/core";
import { type MemoryUser, MemoryUserDatabase } from "@tessera/core/testing";
import { MfaKeyring } from "../keyring.js";
import { TotpFactorService } from "../totp.js";

export const PASSWORD = "correct horse battery staple";
export const KEY = { id: "k1", secret: "mfa-test-key-0123456789-abcdefghijklmnop" };

export async function setup(options: { keys?: { id: string; secret: string }[] } = {}) {
  const userDb = new MemoryUserDatabase();
  const events: { user: MemoryUser; event: SecurityEvent; context: unknown }[] = [];
  const userManager = new UserManager<MemoryUser, string>({
    userDb,
    verificationTokenSecret: "verify-secret-0123456789-abcdefghijklmnop",
    resetPasswordTokenSecret: "reset-secret-0123456789-abcdefghijklmnopq",
    hooks: {
      onSecurityEvent: (user, event, context) => void events.push({ user, event, context }),
    },
  });
  const clock = { now: Date.UTC(2026, 11, 6, 9, 0, 10) };
  const keyring = new MfaKeyring(options.keys ?? [KEY]);
  const factors = new TotpFactorService({
    userManager,
    keyring,
    issuer: "Tessera Test",
    now: () => clock.now,
  });
  const user = await userManager.create({ email: "ada@example.com", password: PASSWORD });
  return { userDb, userManager, keyring, factors, clock, events, user };
}
