import type { EntityClass } from "@mikro-orm/core";

/**
 * An entity as the adapters accept it: a `defineEntity` / `EntitySchema` result (anything
 * carrying MikroORM's `~entity` type tag) or an entity class. Structural on purpose:
 * `EntityName<object>` rejects schemas that extend a base entity.
 *
 * @example
 * const entity: EntityTarget = AppUser; // what MikroOrmUserDatabase's constructor takes
 */
export type EntityTarget<E extends object = object> = { readonly "~entity": E } | EntityClass<E>;

/**
 * A user as the MikroORM adapters return it: the entity's own fields as a plain object (no
 * ORM state, no `_id`: on MongoDB the id is the hex string `id`).
 *
 * @example
 * type AppUserRow = PlainUser<InferEntity<typeof AppUser>>; // { id: number; email: string; firstName: string | null; ... }
 */
export type PlainUser<E> = {
  [K in keyof E as K extends "_id" | symbol ? never : K]: Unbranded<E[K]>;
};

/**
 * A value type without MikroORM's type-level brands (`Opt<string>` is `string & Opt.Brand`):
 * plain objects carry plain values, and a plain `string` must be accepted as an id.
 *
 * @example
 * type Id = Unbranded<Opt<string>>; // string
 */
export type Unbranded<V> = V extends string
  ? string
  : V extends number
    ? number
    : V extends boolean
      ? boolean
      : V extends bigint
        ? bigint
        : V extends Date
          ? Date
          : V;

/**
 * The id type of a user entity (its plain `id`).
 *
 * @example
 * type Id = UserIdOf<InferEntity<typeof IntUser>>; // number
 */
export type UserIdOf<E> = E extends { id: infer I } ? Unbranded<I> : unknown;

/**
 * The user entity an access-token entity's `user` relation points at.
 *
 * @example
 * type U = TokenUserOf<InferEntity<typeof AccessToken>>; // the User entity type
 */
export type TokenUserOf<T> = T extends { user: infer R } ? (R extends object ? R : never) : never;
