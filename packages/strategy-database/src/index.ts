/**
 * `@tessera/strategy-database`: opaque tokens stored as SHA-256 digests in any
 * `AccessTokenDatabase`, with sliding and absolute expiry.
 */
export { DatabaseStrategy, type DatabaseStrategyOptions } from "./database-strategy.js";
export {
  DatabaseSessionStore,
  type DatabaseSessionStoreOptions,
} from "./session-store.js";
