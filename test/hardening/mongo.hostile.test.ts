// ASVS 5.0 hostile input over HTTP, on @tessera/db-mongo over the MongoDB-protocol server
// (see hostile/suite.ts): where NoSQL operator injection would bite.
import { hostileInputSuite } from "./hostile/suite.js";

hostileInputSuite("mongo");
