import { normalizeEmail, UserAlreadyExistsError, type UserManager } from "@tessera/core";
import type { User } from "./db/index.js";
import type { Logger } from "./logger.js";

/**
 * Creates the superuser of `TESSERA_ADMIN_EMAIL` / `TESSERA_ADMIN_PASSWORD` unless the
 * email already has an account: safe to run at every start. An existing account is left
 * as it is (password and flags): promoting whoever registered that email first would
 * hand them the admin rights.
 */
export async function ensureAdmin(
  userManager: UserManager<User, string>,
  admin: { email: string; password: string },
  log: Logger,
): Promise<"created" | "exists"> {
  const existing = await userManager.userDb.getByEmail(normalizeEmail(admin.email));
  if (existing) {
    if (!existing.isSuperuser) {
      log.warn(`admin: ${admin.email} exists but is not a superuser; left unchanged`);
    }
    return "exists";
  }
  try {
    await userManager.create(
      { email: admin.email, password: admin.password, isSuperuser: true, isVerified: true },
      { safe: false },
    );
  } catch (error) {
    // Another instance starting at the same moment created it first.
    if (error instanceof UserAlreadyExistsError) return "exists";
    throw error;
  }
  log.info(`admin: created superuser ${admin.email}`);
  return "created";
}
