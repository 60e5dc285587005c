// @tessera/db-mikroorm on PostgreSQL (@mikro-orm/postgresql), each run in its own schema.
import { describeAdapterConformance } from "@tessera/core/testing";
import * as vitest from "vitest";
import {
  AccessToken,
  MfaRecoveryCode,
  MfaTotp,
  OAuthAccount,
  Passkey,
  User,
} from "../../packages/db-mikroorm/src/index.js";
import {
  AppAccessToken,
  AppMfa,
  AppOAuthAccount,
  AppUser,
  IntAccessToken,
  IntMfa,
  IntOAuthAccount,
  IntUser,
} from "../../packages/db-mikroorm/src/test-utils/app-entities.js";
import { mikroOrmFixture } from "../../packages/db-mikroorm/src/test-utils/fixture.js";

const SQL_MFA = { totp: MfaTotp, recoveryCode: MfaRecoveryCode, passkey: Passkey };

describeAdapterConformance(
  mikroOrmFixture({
    name: "mikro-orm/postgresql",
    driver: "postgresql",
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
    name: "mikro-orm/postgresql (app user with first_name)",
    driver: "postgresql",
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
    name: "mikro-orm/postgresql (integer ids)",
    driver: "postgresql",
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
    name: "mikro-orm/postgresql (the global EntityManager, no fork)",
    driver: "postgresql",
    idKind: "uuid",
    user: User,
    token: AccessToken,
    oauth: OAuthAccount,
    mfa: SQL_MFA,
    globalEm: true,
  }),
  vitest,
);

// The `fastPath: false` option: every read through plain MikroORM (em.findOne, em.find, a
// joined populate), none on the pg pool.
describeAdapterConformance(
  mikroOrmFixture({
    name: "mikro-orm/postgresql (fastPath: false, plain MikroORM)",
    driver: "postgresql",
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
    name: "mikro-orm/postgresql (fastPath: false, integer ids, the global EntityManager)",
    driver: "postgresql",
    idKind: "integer",
    user: IntUser,
    token: IntAccessToken,
    oauth: IntOAuthAccount,
    mfa: IntMfa,
    globalEm: true,
    adapterOptions: { fastPath: false },
  }),
  vitest,
);

// Unnamed statements on the fast path (PgBouncer in transaction mode before 1.21).
describeAdapterConformance(
  mikroOrmFixture({
    name: "mikro-orm/postgresql (preparedStatements: false)",
    driver: "postgresql",
    idKind: "uuid",
    user: User,
    token: AccessToken,
    oauth: OAuthAccount,
    mfa: SQL_MFA,
    adapterOptions: { preparedStatements: false },
  }),
  vitest,
);
