/**
 * `@tessera/strategy-jwt`: {@link JWTStrategy}, stateless JWT access tokens on jose,
 * with optional revocation (logout, log out everywhere) through a {@link JwtRevocationStore}.
 */
export * from "./jwt-strategy.js";
export type { JwtAlgorithm, JwtKeyInput, JwtKeyPairAlgorithm } from "./keys.js";
export type * from "./options.js";
export * from "./revocation/memory.js";
export type * from "./revocation/store.js";
