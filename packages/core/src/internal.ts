/**
 * `@tessera/core/internal`: helpers that Tessera's own packages share (the HTTP layer, the
 * strategies) but an application should not call. No semver promise: any of these may
 * change or go in any release. Public API is `@tessera/core`.
 */
export { changesCredentials } from "./manager/user-input.js";
export { MFA_DATABASE_VERBS } from "./mfa/models.js";
export { OAUTH_ACCOUNT_DATABASE_VERBS } from "./oauth/models.js";
export { checkRateLimitRule } from "./rate-limit/store.js";
export { fromMongoJson, toMongoJson } from "./session/mongo-json-keys.js";
export { isOpaqueTokenShape, safeEqual, sessionIdFromDigest } from "./tokens/opaque.js";
export { secretKey } from "./tokens/signed.js";
export { MAX_TOKEN_LENGTH } from "./transport/base.js";
export { serializeCookie } from "./transport/cookie.js";
