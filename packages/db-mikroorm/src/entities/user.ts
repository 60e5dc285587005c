import { randomUUID } from "node:crypto";
import { defineEntity, p } from "@mikro-orm/core";

/**
 * The fields Tessera needs of a user, as an abstract MikroORM entity: extend it with an id
 * (and any fields of your own) to get a concrete user entity. Columns are snake_case on
 * every driver; `email` holds the normalized email (see `normalizeEmail` in `@tessera/core`)
 * under a unique index, so case-insensitive uniqueness is the database's decision.
 *
 * @example
 * import { defineEntity, p } from "@mikro-orm/core";
 * import { UserBase } from "@tessera/db-mikroorm";
 *
 * export const AppUser = defineEntity({
 *   name: "AppUser",
 *   tableName: "app_user",
 *   extends: UserBase,
 *   properties: {
 *     id: p.integer().primary().autoincrement(),
 *     firstName: p.string().nullable(),
 *   },
 * });
 */
export const UserBase = defineEntity({
  name: "TesseraUserBase",
  abstract: true,
  properties: {
    /** The normalized email; unique. 320 = 64 (local part) + 1 + 255 (domain), as FastAPI Users. */
    email: p.string().length(320).fieldName("email").unique(),
    /** A PHC string; room for any scheme (argon2id, bcrypt, a future one). */
    hashedPassword: p.string().length(1024).fieldName("hashed_password"),
    /** @default true */
    isActive: p.boolean().default(true).fieldName("is_active"),
    /** @default false */
    isSuperuser: p.boolean().default(false).fieldName("is_superuser"),
    /** @default false */
    isVerified: p.boolean().default(false).fieldName("is_verified"),
  },
});

/**
 * The default user entity for SQL drivers (PostgreSQL, SQLite, …): {@link UserBase} with a
 * UUID primary key `id` generated in the application, in the table `user`.
 *
 * @example
 * const orm = await MikroORM.init({ entities: [User, AccessToken], ... });
 * const users = new MikroOrmUserDatabase(orm.em.fork(), User);
 */
export const User = defineEntity({
  name: "User",
  tableName: "user",
  extends: UserBase,
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
  },
});

/**
 * The default user entity for `@mikro-orm/mongodb`: {@link UserBase} with MongoDB's usual
 * ObjectId `_id`, exposed to Tessera as the 24-hex-digit string `id` (parse ids with
 * `objectIdStringParser` from `@tessera/core`), in the collection `user`.
 *
 * @example
 * const orm = await MikroORM.init({ driver: MongoDriver, entities: [MongoUser, MongoAccessToken], ... });
 */
export const MongoUser = defineEntity({
  name: "MongoUser",
  tableName: "user",
  extends: UserBase,
  properties: {
    // A string type name, not the ObjectId class: this package must load without `mongodb`.
    _id: p.type("ObjectId").primary(),
    id: p.string().serializedPrimaryKey(),
  },
});
