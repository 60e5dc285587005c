/**
 * Test helpers: the adapter conformance suite, in-memory user and access-token stores, user
 * data to create. Import from `@tessera/core/testing`; they are not part of the production
 * entry point.
 */
export {
  type AdapterFixture,
  type ConformanceRunner,
  describeAdapterConformance,
} from "./adapter-conformance.js";
export { MemoryAccessTokenDatabase, type MemoryUser, MemoryUserDatabase } from "./memory.js";
export { userCreateData, userWithToken } from "./users.js";
