// The HTTP suite of test/http, on @tessera/db-mikroorm over a real PostgreSQL.
import { runHttpSuiteOn } from "./run-http-suite.js";

runHttpSuiteOn("mikroorm-postgresql");
