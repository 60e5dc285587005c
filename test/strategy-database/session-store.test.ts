// DatabaseSessionStore's rules (issue 14) on real databases: PostgreSQL, SQLite and the
// MongoDB protocol through @tessera/db-mikroorm, and the MongoDB protocol through
// @tessera/db-mongo. The same cases run on memory beside the store.
import { describeSessionStore } from "../../packages/strategy-database/src/test-utils/session-store-cases.js";
import { mongoAtomic, storeDatabases } from "./fixtures.js";

for (const database of storeDatabases("tessera_sessions")) {
  describeSessionStore({
    ...database,
    // On MongoDB one findAndModify of `$set`/`$unset` per key: atomic per document on
    // MongoDB; FerretDB v1 rewrites whole documents, so there concurrent merges can lose each
    // other (test/db-mikroorm/mongodb.session-data.test.ts and test/db-mongo/session-data.test.ts
    // pin what holds there).
    mergesInPlace: !database.mongo || mongoAtomic,
  });
}
