/**
 * `@tessera/strategy-jwt`: {@link JWTStrategy}, stateless JWT access tokens on jose,
 * with optional revocation (logout, log out everywhere) through a {@link JwtRevocationStore};
 * signing keys that rotate ({@link JwtKeySet}, `kid`) and the {@link AccessTokenCodec}
 * that signs and verifies access tokens for any strategy; {@link RefreshTokenStrategy},
 * SuperTokens' refresh-token sessions (rotation, theft detection).
 */
export {
  type AccessTokenClaims,
  AccessTokenCodec,
  type AccessTokenCodecOptions,
  type AccessTokenContent,
} from "./codec.js";
export { JWT_SESSION_CLAIM, JWTStrategy } from "./jwt-strategy.js";
export {
  type JwtAsymmetricKeySpec,
  JwtKeySet,
  type JwtKeySetInput,
  type JwtKeySpec,
  type JwtSecretKeySpec,
  type PublicJwk,
  type PublicJwks,
} from "./key-set.js";
export type { JwtAlgorithm, JwtKeyInput, JwtKeyPairAlgorithm } from "./keys.js";
export type {
  JwtHmacOptions,
  JwtKeyPairOptions,
  JwtKeySetOptions,
  JwtStrategyCommonOptions,
  JwtStrategyOptions,
} from "./options.js";
export {
  RefreshTokenStrategy,
  type RefreshTokenStrategyOptions,
} from "./refresh/refresh-strategy.js";
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
