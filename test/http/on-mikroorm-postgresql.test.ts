// The HTTP suite of this folder, on @tessera/db-mikroorm over a real PostgreSQL.
import { runHttpSuiteOn } from "./run-http-suite.js";

runHttpSuiteOn("mikroorm-postgresql");
