// @tessera/db-mikroorm on MongoDB (@mikro-orm/mongodb) against the harness's server
// (FerretDB v1 when mongod is not installed), each run in its own database.
import { describeAdapterConformance } from "@tessera/core/testing";
import * as vitest from "vitest";
import {
  MongoAccessToken,
  MongoMfaRecoveryCode,
  MongoMfaTotp,
  MongoOAuthAccount,
  MongoPasskey,
  MongoUser,
} from "../../packages/db-mikroorm/src/index.js";
import {
  MongoAppAccessToken,
  MongoAppMfa,
  MongoAppOAuthAccount,
  MongoAppUser,
} from "../../packages/db-mikroorm/src/test-utils/app-entities.js";
import { mikroOrmFixture } from "../../packages/db-mikroorm/src/test-utils/fixture.js";

// FerretDB v1 reads then writes a filtered update: compare-and-set races only hold on mongod.
const MONGO_MFA = { totp: MongoMfaTotp, recoveryCode: MongoMfaRecoveryCode, passkey: MongoPasskey };

const atomicConditionalUpdates = vitest.inject("services")?.mongo.kind !== "ferretdb";

describeAdapterConformance(
  {
    ...mikroOrmFixture({
      name: "mikro-orm/mongodb",
      driver: "mongodb",
      idKind: "objectId",
      user: MongoUser,
      token: MongoAccessToken,
      oauth: MongoOAuthAccount,
      mfa: MONGO_MFA,
    }),
    atomicConditionalUpdates,
  },
  vitest,
);

describeAdapterConformance(
  {
    ...mikroOrmFixture({
      name: "mikro-orm/mongodb (app user with first_name)",
      driver: "mongodb",
      idKind: "objectId",
      user: MongoAppUser,
      token: MongoAppAccessToken,
      oauth: MongoAppOAuthAccount,
      mfa: MongoAppMfa,
      extraField: { key: "firstName", value: "Ada" },
    }),
    atomicConditionalUpdates,
  },
  vitest,
);

describeAdapterConformance(
  {
    ...mikroOrmFixture({
      name: "mikro-orm/mongodb (the global EntityManager, no fork)",
      driver: "mongodb",
      idKind: "objectId",
      user: MongoUser,
      token: MongoAccessToken,
      oauth: MongoOAuthAccount,
      mfa: MONGO_MFA,
      globalEm: true,
    }),
    atomicConditionalUpdates,
  },
  vitest,
);
