// MikroOrmUserDatabase's second factors and passkeys on SQLite (node:sqlite): the tests in
// test-utils/mfa-tests.ts, which test/db-mikroorm runs on PostgreSQL and MongoDB.
import { describeMikroOrmMfa } from "./test-utils/mfa-tests.js";

describeMikroOrmMfa("sqlite");
