/**
 * Test helpers of `@tessera/strategy-jwt`: the conformance cases every
 * {@link JwtRevocationStore} runs. Import from `@tessera/strategy-jwt/testing`.
 */
export * from "./revocation-store-cases.js";
