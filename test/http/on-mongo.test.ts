// The HTTP suite of this folder, on @tessera/db-mongo over the MongoDB-protocol server.
import { runHttpSuiteOn } from "./run-http-suite.js";

runHttpSuiteOn("mongo");
