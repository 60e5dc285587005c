// MikroOrmUserDatabase's second factors and passkeys on PostgreSQL and on the harness's
// MongoDB-protocol server (mongod, or FerretDB v1 in CI): the tests the package runs on
// SQLite in src/mfa.test.ts — one conditional UPDATE per once-only write, the cascade, the
// foreign key for a user not stored.
import { describeMikroOrmMfa } from "../../packages/db-mikroorm/src/test-utils/mfa-tests.js";

describeMikroOrmMfa("postgresql");
describeMikroOrmMfa("mongodb");
