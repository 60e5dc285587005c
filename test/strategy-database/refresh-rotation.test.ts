// DatabaseSessionStore's refresh-token rotation (issue 15) on real databases, with real
// parallel calls: PostgreSQL, SQLite and the MongoDB protocol through @tessera/db-mikroorm,
// and the MongoDB protocol through @tessera/db-mongo. The same cases run on memory beside
// the store (packages/strategy-database/src/session-store.test.ts).
import { describeRefreshSessionStore } from "../../packages/strategy-database/src/test-utils/refresh-store-cases.js";
import { mongoAtomic, storeDatabases } from "./fixtures.js";

for (const database of storeDatabases("tessera_refresh")) {
  describeRefreshSessionStore({
    ...database,
    // FerretDB v1 (the harness's stand-in for mongod) runs a filtered update as a read then a
    // write: there the race cases check what holds without an atomic conditional write.
    atomicConditionalUpdates: !database.mongo || mongoAtomic,
  });
}
