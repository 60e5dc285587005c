// MikroOrmUserDatabase's OAuth accounts on PostgreSQL and on the harness's MongoDB-protocol
// server (mongod, or FerretDB v1 in CI): the tests the package runs on SQLite in
// src/oauth.test.ts — parallel adds against the unique index, the cascade, ids as strings.
import { describeMikroOrmOAuthAccounts } from "../../packages/db-mikroorm/src/test-utils/oauth-tests.js";

describeMikroOrmOAuthAccounts("postgresql");
describeMikroOrmOAuthAccounts("mongodb");
