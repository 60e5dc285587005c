/**
 * `@tessera/strategy-jwt`: JWT access tokens on jose, with optional revocation
 * (logout, log out everywhere) through a {@link JwtRevocationStore}.
 */
export * from "./revocation/memory.js";
export type * from "./revocation/store.js";
