/**
 * `@tessera/strategy-jwt`: {@link JWTStrategy}, stateless JWT access tokens on jose,
 * with optional revocation (logout, log out everywhere) through a {@link JwtRevocationStore}.
 */
export { JWT_SESSION_CLAIM, JWTStrategy } from "./jwt-strategy.js";
export type { JwtAlgorithm, JwtKeyInput, JwtKeyPairAlgorithm } from "./keys.js";
export type {
  JwtHmacOptions,
  JwtKeyPairOptions,
  JwtStrategyCommonOptions,
  JwtStrategyOptions,
} from "./options.js";
export {
  MemoryJwtRevocationStore,
  type MemoryJwtRevocationStoreOptions,
} from "./revocation/memory.js";
export type {
  JwtRevocationStore,
  RevocationQuery,
  RevokedToken,
  RevokedUserTokens,
} from "./revocation/store.js";
