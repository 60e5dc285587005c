/**
 * `@tessera/koa`: Koa middleware and @koa/router routers for Tessera, wire-compatible
 * with FastAPI Users.
 */
export { DEFAULT_BODY_LIMIT, readFormBody, readJsonBody } from "./body.js";
export { authRequest, type TesseraState, writeAuthResponse } from "./context.js";
export { type CsrfOptions, CsrfProtection } from "./csrf.js";
export { HttpErrorCode, type HttpErrorCodeValue } from "./error-codes.js";
export { HttpError, toHttpError, type ValidationIssue, writeError } from "./http-error.js";
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
export { ClientAddress } from "./rate-limit/client-address.js";
export type { RateLimitAttempt, RateLimiter } from "./rate-limit/limiter.js";
export {
  DEFAULT_RATE_LIMITS,
  type RateLimitEvent,
  type RateLimitedRoute,
  type RateLimitOptions,
  type RouteRateLimit,
} from "./rate-limit/options.js";
export type { RouterOptions } from "./route/deps.js";
export { TesseraRouter } from "./route/router.js";
export type {
  AuthedRouteCall,
  AuthedRouteSpec,
  PublicRouteSpec,
  RouteBody,
  RouteCall,
  RouteError,
  RouteMethod,
  RouteResponse,
  RouteSpec,
} from "./route/spec.js";
export type { AuthRouterOptions } from "./routers/auth.js";
export type { SessionRead } from "./routers/sessions.js";
export type { UsersRouterOptions } from "./routers/users.js";
export {
  currentPasswordSchema,
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
