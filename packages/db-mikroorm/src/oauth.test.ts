// MikroOrmUserDatabase's OAuth accounts on SQLite (node:sqlite): the tests in
// test-utils/oauth-tests.ts, which test/db-mikroorm runs on PostgreSQL and MongoDB.
import { describeMikroOrmOAuthAccounts } from "./test-utils/oauth-tests.js";

describeMikroOrmOAuthAccounts("sqlite");
