import { defineEntity, p } from "@mikro-orm/core";
import type { EntityTarget } from "../types.js";
import { MongoUser, User } from "./user.js";

/**
 * The fields of a user's TOTP factor at rest (issue 17), as an abstract MikroORM entity:
 * `secret` (encrypted by the MFA flow: opaque text), `confirmed_at` (null while enrolment is
 * pending) and `last_step` (the last accepted time step, a 64-bit integer; -1 when none).
 * Extend it with a `user` relation made by {@link mfaUser}: the primary key itself on SQL
 * (one factor per user), a unique field beside `_id` on MongoDB.
 *
 * @example
 * export const AppMfaTotp = defineEntity({
 *   name: "AppMfaTotp",
 *   tableName: "app_mfa_totp",
 *   extends: MfaTotpBase,
 *   properties: { user: () => mfaUser(AppUser).primary() },
 * });
 */
export const MfaTotpBase = defineEntity({
  name: "TesseraMfaTotpBase",
  abstract: true,
  properties: {
    /** The shared secret as the MFA flow encrypted it (versioned, key id, ciphertext). */
    secret: p.text().fieldName("secret"),
    /** When enrolment was confirmed with a first code; null while it is pending. */
    confirmedAt: p.datetime().nullable().fieldName("confirmed_at"),
    /** The last time step a code was accepted for; -1 when none. */
    lastStep: p.bigint("number").fieldName("last_step"),
  },
});

/**
 * The fields of one recovery code at rest: its `hash` (never the code) and `used_at`, with
 * a unique index on `(user_id, hash)`. Extend it with an id whose order is the order of
 * inserts (an autoincrement integer, MongoDB's ObjectId: codes read back in the order they
 * were given) and a `user` relation made by {@link mfaUser}.
 *
 * @example
 * export const AppMfaRecoveryCode = defineEntity({
 *   name: "AppMfaRecoveryCode",
 *   tableName: "app_mfa_recovery_codes",
 *   extends: MfaRecoveryCodeBase,
 *   properties: {
 *     id: p.integer().primary().autoincrement(),
 *     user: () => mfaUser(AppUser),
 *   },
 * });
 */
export const MfaRecoveryCodeBase = defineEntity({
  name: "TesseraMfaRecoveryCodeBase",
  abstract: true,
  // `user` comes with the concrete entity (mfaUser); MikroORM resolves the index there.
  uniques: [{ properties: ["user", "hash"] as never }],
  properties: {
    /** A keyed or slow hash of the code, never the code. */
    hash: p.text().fieldName("hash"),
    /** When the code was used; null while it is unused. */
    usedAt: p.datetime().nullable().fieldName("used_at"),
  },
});

/**
 * The fields of a passkey (WebAuthn credential) at rest: `public_key` (COSE, base64url),
 * `counter` (the signature counter, a 64-bit integer: WebAuthn's is unsigned 32-bit),
 * `transports` (JSON), `name`, `backed_up`, `created_at`, `last_used_at`. Extend it with the
 * credential id as the primary key (`credentialId`: column `id` on SQL, `_id` on MongoDB,
 * so it is unique across users on every server) and a `user` relation made by
 * {@link mfaUser}.
 *
 * @example
 * export const AppPasskey = defineEntity({
 *   name: "AppPasskey",
 *   tableName: "app_passkeys",
 *   extends: PasskeyBase,
 *   properties: {
 *     credentialId: p.text().primary().fieldName("id"),
 *     user: () => mfaUser(AppUser),
 *   },
 * });
 */
export const PasskeyBase = defineEntity({
  name: "TesseraPasskeyBase",
  abstract: true,
  properties: {
    /** The COSE public key, base64url. */
    publicKey: p.text().fieldName("public_key"),
    /** The signature counter last seen (0 for authenticators that do not count). */
    counter: p.bigint("number").fieldName("counter"),
    /** The transports the authenticator reported (`internal`, `hybrid`, `usb`…). */
    transports: p.json<string[]>().fieldName("transports"),
    /** The name the user chose. */
    name: p.string().length(255).fieldName("name"),
    /** Whether the credential is backed up (a synced passkey). */
    backedUp: p.boolean().fieldName("backed_up"),
    /** When it was registered: `listPasskeys` is oldest first by it. */
    createdAt: p.datetime().fieldName("created_at"),
    /** When it was last used to log in; null before. */
    lastUsedAt: p.datetime().nullable().fieldName("last_used_at"),
  },
});

/**
 * The `user` relation of an MFA entity (TOTP factor, recovery code, passkey): column
 * `user_id`, indexed, and `ON DELETE CASCADE` on SQL so deleting a user deletes their second
 * factors and passkeys. On MongoDB, which has no foreign keys, `MikroOrmUserDatabase.delete`
 * reads the cascade rule from this relation and deletes them itself.
 *
 * @example
 * properties: { user: () => mfaUser(AppUser) }
 */
export function mfaUser<const Target extends EntityTarget>(user: Target) {
  return p.manyToOne(user).fieldName("user_id").deleteRule("cascade").index();
}

/**
 * The default TOTP entity for SQL drivers: table `mfa_totp`, keyed by `user_id` (a foreign
 * key to {@link User} with `ON DELETE CASCADE`).
 *
 * @example
 * const orm = await MikroORM.init({ entities: [User, AccessToken, MfaTotp, MfaRecoveryCode, Passkey], ... });
 * const users = new MikroOrmUserDatabase(em, User, { mfa: { totp: MfaTotp, recoveryCode: MfaRecoveryCode, passkey: Passkey } });
 */
export const MfaTotp = defineEntity({
  name: "MfaTotp",
  tableName: "mfa_totp",
  extends: MfaTotpBase,
  properties: {
    user: () => p.manyToOne(User).primary().fieldName("user_id").deleteRule("cascade"),
  },
});

/** The default recovery code entity for SQL drivers: table `mfa_recovery_codes`. */
export const MfaRecoveryCode = defineEntity({
  name: "MfaRecoveryCode",
  tableName: "mfa_recovery_codes",
  extends: MfaRecoveryCodeBase,
  properties: {
    id: p.integer().primary().autoincrement(),
    user: () => mfaUser(User),
  },
});

/** The default passkey entity for SQL drivers: table `passkeys`, the credential id as `id`. */
export const Passkey = defineEntity({
  name: "Passkey",
  tableName: "passkeys",
  extends: PasskeyBase,
  properties: {
    credentialId: p.text().primary().fieldName("id"),
    user: () => mfaUser(User),
  },
});

/**
 * The default TOTP entity for `@mikro-orm/mongodb`: collection `mfa_totp`, an ObjectId
 * `_id` and a unique `user_id` (one factor per user).
 */
export const MongoMfaTotp = defineEntity({
  name: "MongoMfaTotp",
  tableName: "mfa_totp",
  extends: MfaTotpBase,
  properties: {
    _id: p.type("ObjectId").primary(),
    id: p.string().serializedPrimaryKey(),
    user: () => p.manyToOne(MongoUser).fieldName("user_id").deleteRule("cascade").unique(),
  },
});

/** The default recovery code entity for `@mikro-orm/mongodb`: collection `mfa_recovery_codes`. */
export const MongoMfaRecoveryCode = defineEntity({
  name: "MongoMfaRecoveryCode",
  tableName: "mfa_recovery_codes",
  extends: MfaRecoveryCodeBase,
  properties: {
    _id: p.type("ObjectId").primary(),
    id: p.string().serializedPrimaryKey(),
    user: () => mfaUser(MongoUser),
  },
});

/**
 * The default passkey entity for `@mikro-orm/mongodb`: collection `passkeys`, the credential
 * id as `_id` (unique across users on MongoDB and FerretDB alike, without a second index).
 */
export const MongoPasskey = defineEntity({
  name: "MongoPasskey",
  tableName: "passkeys",
  extends: PasskeyBase,
  properties: {
    credentialId: p.text().primary().fieldName("_id"),
    user: () => mfaUser(MongoUser),
  },
});
