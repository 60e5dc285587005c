// ASVS 5.0 hostile input over HTTP, on the in-memory store (see hostile/suite.ts).
import { hostileInputSuite } from "./hostile/suite.js";

hostileInputSuite("memory");
