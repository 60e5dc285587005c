import type { AccessTokenCreate, UserCreateData, UserProtocol } from "../models.js";
import { generateOpaqueToken, hashToken } from "../tokens/opaque.js";

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

/**
 * A new user with `email` in `users` and one access token of theirs in `tokens`: the
 * digest of a fresh opaque token, created now, living `lifetimeSeconds`. For tests of
 * access-token adapters and strategies, on any `UserDatabase` and `AccessTokenDatabase`.
 *
 * @example
 * const { user, digest } = await userWithToken(users, tokens, "ada@example.com", 60);
 * expect((await tokens.getByTokenWithUser(digest))?.user.id).toBe(user.id);
 */
export async function userWithToken<U extends UserProtocol<unknown>>(
  users: { create(data: UserCreateData): Promise<U> },
  tokens: { create(data: AccessTokenCreate<U["id"]>): Promise<unknown> },
  email: string,
  lifetimeSeconds = 3600,
): Promise<{ user: U; digest: string }> {
  const user = await users.create(userCreateData(email));
  const digest = hashToken(generateOpaqueToken());
  await tokens.create({ token: digest, userId: user.id, createdAt: new Date(), lifetimeSeconds });
  return { user, digest };
}
