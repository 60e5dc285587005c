// ASVS 5.0 hostile input over HTTP, on @tessera/db-mikroorm over PostgreSQL (see hostile/suite.ts).
import { hostileInputSuite } from "./hostile/suite.js";

hostileInputSuite("mikroorm-postgresql");
