// Entities an application would write on top of the package's bases: the conformance
// suite runs on them too, proving that extra fields and other id types work by extending.
import { randomUUID } from "node:crypto";
import { defineEntity, p } from "@mikro-orm/core";
import { AccessTokenBase, accessTokenUser } from "../entities/access-token.js";
import { MfaRecoveryCodeBase, MfaTotpBase, mfaUser, PasskeyBase } from "../entities/mfa.js";
import { OAuthAccountBase, oauthAccountUser } from "../entities/oauth-account.js";
import { UserBase } from "../entities/user.js";
import type { EntityTarget } from "../types.js";

/** UUID ids (generated in the app) and an extra `firstName` column. */
export const AppUser = defineEntity({
  name: "AppUser",
  tableName: "app_user",
  extends: UserBase,
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    firstName: p.string().fieldName("first_name").nullable(),
  },
});

export const AppAccessToken = defineEntity({
  name: "AppAccessToken",
  tableName: "app_access_token",
  extends: AccessTokenBase,
  properties: { user: () => accessTokenUser(AppUser) },
});

/** OAuth links of AppUser. */
export const AppOAuthAccount = defineEntity({
  name: "AppOAuthAccount",
  tableName: "app_oauth_accounts",
  extends: OAuthAccountBase,
  properties: {
    id: p.integer().primary().autoincrement(),
    user: () => oauthAccountUser(AppUser),
  },
});

/** A lazy column (`bio`): loaded by every adapter read all the same. */
export const LazyUser = defineEntity({
  name: "LazyUser",
  tableName: "lazy_user",
  extends: UserBase,
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    bio: p.text().nullable().lazy(),
  },
});

export const LazyAccessToken = defineEntity({
  name: "LazyAccessToken",
  tableName: "lazy_access_token",
  extends: AccessTokenBase,
  properties: { user: () => accessTokenUser(LazyUser) },
});

/** Integer ids from the database (serial / autoincrement). */
export const IntUser = defineEntity({
  name: "IntUser",
  tableName: "int_user",
  extends: UserBase,
  properties: { id: p.integer().primary().autoincrement() },
});

export const IntAccessToken = defineEntity({
  name: "IntAccessToken",
  tableName: "int_access_token",
  extends: AccessTokenBase,
  properties: { user: () => accessTokenUser(IntUser) },
});

export const IntOAuthAccount = defineEntity({
  name: "IntOAuthAccount",
  tableName: "int_oauth_accounts",
  extends: OAuthAccountBase,
  properties: {
    id: p.integer().primary().autoincrement(),
    user: () => oauthAccountUser(IntUser),
  },
});

export const LazyOAuthAccount = defineEntity({
  name: "LazyOAuthAccount",
  tableName: "lazy_oauth_accounts",
  extends: OAuthAccountBase,
  properties: {
    id: p.integer().primary().autoincrement(),
    user: () => oauthAccountUser(LazyUser),
  },
});

/** MongoDB: ObjectId `_id` and an extra `firstName` field. */
export const MongoAppUser = defineEntity({
  name: "MongoAppUser",
  tableName: "app_user",
  extends: UserBase,
  properties: {
    _id: p.type("ObjectId").primary(),
    id: p.string().serializedPrimaryKey(),
    firstName: p.string().fieldName("first_name").nullable(),
  },
});

export const MongoAppAccessToken = defineEntity({
  name: "MongoAppAccessToken",
  tableName: "app_access_token",
  extends: AccessTokenBase,
  properties: {
    token: p.string().primary().fieldName("_id"),
    user: () => accessTokenUser(MongoAppUser),
  },
});

export const MongoAppOAuthAccount = defineEntity({
  name: "MongoAppOAuthAccount",
  tableName: "app_oauth_accounts",
  extends: OAuthAccountBase,
  properties: {
    _id: p.type("ObjectId").primary(),
    id: p.string().serializedPrimaryKey(),
    user: () => oauthAccountUser(MongoAppUser),
  },
});

/** The MFA entities of an app's user on SQL: built on the bases, as docs/packages/db-mikroorm.md shows. */
function sqlMfa<const U extends EntityTarget>(prefix: string, user: () => U) {
  return {
    totp: defineEntity({
      name: `${prefix}MfaTotp`,
      tableName: `${prefix.toLowerCase()}_mfa_totp`,
      extends: MfaTotpBase,
      properties: { user: () => mfaUser(user()).primary() },
    }),
    recoveryCode: defineEntity({
      name: `${prefix}MfaRecoveryCode`,
      tableName: `${prefix.toLowerCase()}_mfa_recovery_codes`,
      extends: MfaRecoveryCodeBase,
      properties: {
        id: p.integer().primary().autoincrement(),
        user: () => mfaUser(user()),
      },
    }),
    passkey: defineEntity({
      name: `${prefix}Passkey`,
      tableName: `${prefix.toLowerCase()}_passkeys`,
      extends: PasskeyBase,
      properties: {
        credentialId: p.text().primary().fieldName("id"),
        user: () => mfaUser(user()),
      },
    }),
  };
}

/** Second factors and passkeys of AppUser. */
export const AppMfa = sqlMfa("App", () => AppUser);
/** Second factors and passkeys of IntUser (integer user ids). */
export const IntMfa = sqlMfa("Int", () => IntUser);

/** Second factors and passkeys of MongoAppUser. */
export const MongoAppMfa = {
  totp: defineEntity({
    name: "MongoAppMfaTotp",
    tableName: "app_mfa_totp",
    extends: MfaTotpBase,
    properties: {
      _id: p.type("ObjectId").primary(),
      id: p.string().serializedPrimaryKey(),
      user: () => mfaUser(MongoAppUser).unique(),
    },
  }),
  recoveryCode: defineEntity({
    name: "MongoAppMfaRecoveryCode",
    tableName: "app_mfa_recovery_codes",
    extends: MfaRecoveryCodeBase,
    properties: {
      _id: p.type("ObjectId").primary(),
      id: p.string().serializedPrimaryKey(),
      user: () => mfaUser(MongoAppUser),
    },
  }),
  passkey: defineEntity({
    name: "MongoAppPasskey",
    tableName: "app_passkeys",
    extends: PasskeyBase,
    properties: {
      credentialId: p.text().primary().fieldName("_id"),
      user: () => mfaUser(MongoAppUser),
    },
  }),
};
