// @tessera/db-mikroorm on SQLite through node:sqlite (TesseraSqliteDialect, whose cached
// statements the hot reads run directly): no native build, no server. Also the app-extension
// cases (an extra column, integer ids), and MikroORM's own NodeSqliteDialect, on which every
// read goes through MikroORM's connection.
import { describeAdapterConformance } from "@tessera/core/testing";
import * as vitest from "vitest";
import { AccessToken, MfaRecoveryCode, MfaTotp, OAuthAccount, Passkey, User } from "./index.js";
import {
  AppAccessToken,
  AppMfa,
  AppOAuthAccount,
  AppUser,
  IntAccessToken,
  IntMfa,
  IntOAuthAccount,
  IntUser,
} from "./test-utils/app-entities.js";
import { mikroOrmFixture } from "./test-utils/fixture.js";

const SQL_MFA = { totp: MfaTotp, recoveryCode: MfaRecoveryCode, passkey: Passkey };

describeAdapterConformance(
  mikroOrmFixture({
    name: "mikro-orm/sqlite",
    driver: "sqlite",
    idKind: "uuid",
    user: User,
    token: AccessToken,
    oauth: OAuthAccount,
    mfa: SQL_MFA,
  }),
  vitest,
);

describeAdapterConformance(
  mikroOrmFixture({
    name: "mikro-orm/sqlite (app user with first_name)",
    driver: "sqlite",
    idKind: "uuid",
    user: AppUser,
    token: AppAccessToken,
    oauth: AppOAuthAccount,
    mfa: AppMfa,
    extraField: { key: "firstName", value: "Ada" },
  }),
  vitest,
);

describeAdapterConformance(
  mikroOrmFixture({
    name: "mikro-orm/sqlite (integer ids)",
    driver: "sqlite",
    idKind: "integer",
    user: IntUser,
    token: IntAccessToken,
    oauth: IntOAuthAccount,
    mfa: IntMfa,
  }),
  vitest,
);

describeAdapterConformance(
  mikroOrmFixture({
    name: "mikro-orm/sqlite (the global EntityManager, no fork)",
    driver: "sqlite",
    idKind: "uuid",
    user: User,
    token: AccessToken,
    oauth: OAuthAccount,
    mfa: SQL_MFA,
    globalEm: true,
  }),
  vitest,
);

describeAdapterConformance(
  mikroOrmFixture({
    name: "mikro-orm/sqlite (MikroORM's NodeSqliteDialect: no fast path)",
    driver: "sqlite",
    idKind: "uuid",
    user: User,
    token: AccessToken,
    oauth: OAuthAccount,
    mfa: SQL_MFA,
    sqliteDialect: "mikro-orm",
  }),
  vitest,
);

// The `fastPath: false` option: every read through plain MikroORM, none on the dialect's
// statements directly.
describeAdapterConformance(
  mikroOrmFixture({
    name: "mikro-orm/sqlite (fastPath: false, plain MikroORM)",
    driver: "sqlite",
    idKind: "uuid",
    user: User,
    token: AccessToken,
    oauth: OAuthAccount,
    mfa: SQL_MFA,
    adapterOptions: { fastPath: false },
  }),
  vitest,
);

describeAdapterConformance(
  mikroOrmFixture({
    name: "mikro-orm/sqlite (fastPath: false, app user with first_name, the global EntityManager)",
    driver: "sqlite",
    idKind: "uuid",
    user: AppUser,
    token: AppAccessToken,
    oauth: AppOAuthAccount,
    mfa: AppMfa,
    extraField: { key: "firstName", value: "Ada" },
    globalEm: true,
    adapterOptions: { fastPath: false },
  }),
  vitest,
);
