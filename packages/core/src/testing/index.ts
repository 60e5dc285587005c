/**
 * Test helpers: in-memory user and access-token stores. Import from
 * `@tessera/core/testing`; they are not part of the production entry point.
 */
export * from "./memory.js";
