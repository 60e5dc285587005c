import type { UserCreateData } from "../models.js";

/**
 * What `UserDatabase.create` takes for an active, unverified, non-superuser user with
 * `email` (the password hash is a placeholder, never checked), plus `extra` fields of the
 * app's own. For tests of adapters and strategies.
 *
 * @example
 * const user = await users.create(userCreateData("ada@example.com", { displayName: "Ada" }));
 */
export const userCreateData = (
  email: string,
  extra: Record<string, unknown> = {},
): UserCreateData => ({
  email,
  hashedPassword: "hash",
  isActive: true,
  isSuperuser: false,
  isVerified: false,
  ...extra,
});
