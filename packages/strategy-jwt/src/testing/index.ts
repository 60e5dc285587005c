/**
 * Test helpers of `@tessera/strategy-jwt`: the conformance cases every
 * {@link JwtRevocationStore} runs. Import from `@tessera/strategy-jwt/testing`.
 */
export { type JwtRevocationStoreCase, jwtRevocationStoreCases } from "./revocation-store-cases.js";
