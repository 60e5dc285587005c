/**
 * `@tessera/koa`: Koa middleware and @koa/router routers for Tessera, wire-compatible
 * with FastAPI Users.
 */
export { DEFAULT_BODY_LIMIT, readFormBody, readJsonBody } from "./body.js";
export { authRequest, type TesseraState, writeAuthResponse } from "./context.js";
export { type CsrfOptions, CsrfProtection } from "./csrf.js";
export { HttpErrorCode, type HttpErrorCodeValue } from "./error-codes.js";
export { HttpError, type ValidationIssue, writeError } from "./http-error.js";
export type { DocsRouterOptions } from "./openapi/docs-router.js";
export type { OpenAPIOptions } from "./openapi/document.js";
export type * from "./openapi/types.js";
export { ClientAddress } from "./rate-limit/client-address.js";
export type { RateLimitAttempt, RateLimiter } from "./rate-limit/limiter.js";
export {
  DEFAULT_RATE_LIMITS,
  type RateLimitEvent,
  type RateLimitedRoute,
  type RateLimitOptions,
  type RouteRateLimit,
} from "./rate-limit/options.js";
export type { AuthRouterOptions } from "./routers/auth.js";
export type { RouterOptions } from "./routers/deps.js";
export type { SessionRead } from "./routers/sessions.js";
export type { UsersRouterOptions } from "./routers/users.js";
export {
  emailSchema,
  parseBody,
  passwordSchema,
  readUser,
  type UserRead,
  type UserSchemas,
  userCreateSchema,
  userUpdateSchema,
  wireToModel,
} from "./schemas.js";
export { Tessera, type TesseraOptions } from "./tessera.js";
