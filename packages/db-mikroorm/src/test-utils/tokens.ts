import type { EntityManager } from "@mikro-orm/core";
import { generateOpaqueToken, hashToken } from "@tessera/core";
import { userCreateData } from "@tessera/core/testing";
import { MikroOrmAccessTokenDatabase } from "../access-token-database.js";
import { AccessToken } from "../entities/access-token.js";
import { User } from "../entities/user.js";
import { MikroOrmUserDatabase } from "../user-database.js";

/** A new user with `email` and one access token (its digest) living `lifetimeSeconds`. */
export async function userWithToken(em: EntityManager, email: string, lifetimeSeconds = 3600) {
  const user = await new MikroOrmUserDatabase(em, User).create(userCreateData(email));
  const digest = hashToken(generateOpaqueToken());
  await new MikroOrmAccessTokenDatabase(em, AccessToken).create({
    token: digest,
    userId: user.id,
    createdAt: new Date(),
    lifetimeSeconds,
  });
  return { user, digest };
}
