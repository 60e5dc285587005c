/**
 * `@tessera/koa`: Koa middleware and @koa/router routers for Tessera, wire-compatible
 * with FastAPI Users.
 */
export type { KoaAuditSink } from "./audit.js";
export type { TesseraState } from "./context.js";
export type { CsrfOptions } from "./csrf.js";
export { HttpErrorCode, type HttpErrorCodeValue } from "./error-codes.js";
export { HttpError, type ValidationIssue } from "./http-error.js";
export type { DocsRouterOptions } from "./openapi/docs-router.js";
export type { OpenAPIOptions } from "./openapi/document.js";
export type {
  JsonSchema,
  LinkObject,
  OpenAPIDocument,
  OpenAPIExample,
  OpenAPIHeader,
  OpenAPIInfo,
  OpenAPIMediaType,
  OpenAPIMethod,
  OpenAPIOperation,
  OpenAPIParameter,
  OpenAPIPathItem,
  OpenAPIRequestBody,
  OpenAPIResponse,
  OpenAPISecurityRequirement,
  OpenAPIServer,
  ParameterObject,
} from "./openapi/types.js";
export {
  DEFAULT_RATE_LIMITS,
  type RateLimitEvent,
  type RateLimitedRoute,
  type RateLimitOptions,
  type RouteRateLimit,
} from "./rate-limit/options.js";
export type { RouterOptions } from "./route/deps.js";
export { TesseraRouter } from "./route/router.js";
export type { AuthRouterOptions } from "./routers/auth.js";
export {
  JWKS_PATH,
  type JwksKey,
  type JwksRouterOptions,
  type JwksSource,
  jwksRouter,
} from "./routers/jwks.js";
export type {
  CurrentSessionLike,
  MfaChallengesLike,
  MfaRequirementLike,
  MfaRouterOptions,
  MfaSetup,
  TotpEnrolmentLike,
  TotpFactorsLike,
} from "./routers/mfa.js";
export type {
  OAuthAccountRead,
  OAuthAccountsRouterOptions,
  OAuthAssociateRouterOptions,
  OAuthFlowLike,
  OAuthRoutePurpose,
  OAuthRouterOptions,
} from "./routers/oauth.js";
export type {
  PasskeyEventSinkLike,
  PasskeyServiceLike,
  PasskeySetup,
  PasskeySummaryLike,
  PasskeysRouterOptions,
} from "./routers/passkeys.js";
export type { SessionRead } from "./routers/sessions.js";
export type { UsersRouterOptions } from "./routers/users.js";
export {
  readUser,
  type UserRead,
  type UserSchemas,
  userCreateSchema,
  userUpdateSchema,
} from "./schemas.js";
export { ACCESS_TOKEN_HEADER, type RequestSession } from "./session.js";
export { Tessera, type TesseraOptions } from "./tessera.js";
