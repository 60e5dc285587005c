// The HTTP suite of test/http, on @tessera/db-mongo over the MongoDB-protocol server.
import { runHttpSuiteOn } from "./run-http-suite.js";

runHttpSuiteOn("mongo");
