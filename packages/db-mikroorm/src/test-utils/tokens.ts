import type { EntityManager } from "@mikro-orm/core";
import { userWithToken as create } from "@tessera/core/testing";
import { MikroOrmAccessTokenDatabase } from "../access-token-database.js";
import { AccessToken } from "../entities/access-token.js";
import { User } from "../entities/user.js";
import { MikroOrmUserDatabase } from "../user-database.js";

/** A new user with `email` and one access token (its digest) living `lifetimeSeconds`, through `em`. */
export function userWithToken(em: EntityManager, email: string, lifetimeSeconds = 3600) {
  return create(
    new MikroOrmUserDatabase(em, User),
    new MikroOrmAccessTokenDatabase(em, AccessToken),
    email,
    lifetimeSeconds,
  );
}
