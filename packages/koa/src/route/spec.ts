import type { AuthResult, CurrentUserOptions, UserManager, UserProtocol } from "@tessera/core";
import type { Context } from "koa";
import type { z } from "zod";
import type { LinkObject, ParameterObject } from "../openapi/types.js";
import type { RateLimitAttempt } from "../rate-limit/limiter.js";
import type { RateLimitedRoute } from "../rate-limit/options.js";

/** The HTTP methods a route table uses. */
export type RouteMethod = "get" | "post" | "patch" | "put" | "delete";

/**
 * An answer a route can give besides its success, declared once: the handler or the
 * user manager raises it, mounting maps it, the OpenAPI document lists it.
 */
export interface RouteError {
  status: number;
  /** The wire code: the body's `detail`, or `detail.code` when `reason` is set. */
  code: string;
  /** What it means, shown in the document's example. */
  summary: string;
  /** Domain error codes (`TesseraError.code`) answered with this. @default [] */
  on?: readonly string[];
  /**
   * The body is `{"detail": {"code", "reason", "reason_code"}}`, reason and reason code
   * taken from the error (a refused password). `reason` is the document's example.
   */
  reason?: string;
}

/** A request body: its media type and the zod schema that validates it. */
export interface RouteBody<S extends z.ZodType = z.ZodType> {
  /** `json`: `application/json`; `form`: `application/x-www-form-urlencoded` (as FastAPI's `Form()`). */
  type: "json" | "form";
  schema: S;
  /** Component name of the schema in the OpenAPI document. */
  name: string;
}

/** What a route answers on success. */
export type RouteResponse =
  /** A JSON body (`schema`: a component name, or a JSON Schema), JSON `null`, or no body (204). */
  | { status: number; description: string; body?: string | Record<string, unknown> | null }
  /**
   * The transport's login or logout response (a token body, a cookie…): the handler
   * returns it, or writes it with `writeAuthResponse` itself when a hook must run after.
   * `pair`: the login response of a refresh-token backend (RFC 6749 §5.1 with
   * `refresh_token` and `expires_in`, or the access and refresh cookies). `adds`: the JSON
   * Schema (an object's `properties` and `required`) of fields the handler adds to that
   * body; the document merges them in, and a cookie login's 204 becomes 200 with them.
   */
  | { transport: "login" | "logout" | "pair"; adds?: Record<string, unknown> };

/** What a handler gets besides the Koa context. */
export interface RouteCall<U extends UserProtocol<ID>, ID, B> {
  /** The validated body (`undefined` for a route without one). */
  body: B;
  /** The body as it came, before validation (prototype keys stripped). */
  raw: unknown;
  /** The user manager of this request. */
  userManager: UserManager<U, ID>;
  /**
   * Counts an attempt in the route's rate-limit bucket for `account` (a normalized email or
   * a user id; null: the client only). A refused one throws the declared 429.
   */
  attempt(account: string | null): Promise<RateLimitAttempt>;
  /**
   * Throws the route's declared error with this wire code; `auditReason` refines the
   * audit event's `reason` (a login refused for an inactive user answers bad credentials).
   */
  fail(code: string, auditReason?: string): never;
}

/** A handler's call on a route that needs a user: the authentication result too. */
export interface AuthedRouteCall<U extends UserProtocol<ID>, ID, B> extends RouteCall<U, ID, B> {
  auth: AuthResult<U, ID, Context>;
}

/** What every route spec declares. */
interface RouteSpecBase<B> {
  method: RouteMethod;
  /** Koa path below the router's prefix (`/me/sessions/:sessionId`). */
  path: string;
  /** FastAPI Users' operation id (`auth:jwt.login`). */
  operationId: string;
  summary: string;
  description?: string;
  tags: readonly string[];
  /** Path parameters, described; an undescribed one is documented as a string. */
  parameters?: readonly ParameterObject[];
  body?: RouteBody<z.ZodType<B>>;
  /**
   * The route's bucket and the `detail` a throttled attempt answers (a throttled login
   * answers the body of a failed one); the handler counts with `call.attempt`.
   */
  rateLimit?: { bucket: RateLimitedRoute; code: string };
  response: RouteResponse;
  /**
   * Also answers `303 See Other` (an HTML form's navigation), described so; the handler
   * redirects itself.
   */
  redirect?: string;
  /** Every answer besides success and the common ones (401/403/413/422/429/500/503). */
  errors?: readonly RouteError[];
  /** Component schemas the response refers to (`#/components/schemas/Name`), by name. */
  components?: Record<string, Record<string, unknown>>;
  /** OpenAPI links from the success response to other operations, by name. */
  links?: Record<string, LinkObject>;
}

/**
 * A route anyone may call. `csrf: "login"` checks a cookie login's origin (login CSRF);
 * `csrf: "cookie"` applies the full check of a cookie-authenticated change (origin, or the
 * double-submit token) to a route whose credential is another cookie (the refresh cookie).
 */
export interface PublicRouteSpec<U extends UserProtocol<ID>, ID, B> extends RouteSpecBase<B> {
  who: "anyone";
  csrf?: "login" | "cookie";
  /** The backend whose cookie `csrf` protects. */
  backend?: string;
  handler(ctx: Context, call: RouteCall<U, ID, B>): Promise<unknown>;
}

/**
 * A route for an active user, or a superuser; state-changing methods authenticated by a
 * cookie backend are CSRF-checked.
 */
export interface AuthedRouteSpec<U extends UserProtocol<ID>, ID, B> extends RouteSpecBase<B> {
  who: "user" | "superuser";
  /** Unverified users get 403 (`requiresVerification`). @default false */
  verified?: boolean;
  /** Only these backends authenticate it. @default every backend */
  backends?: readonly string[];
  /**
   * Called instead of answering 401 when no user is signed in: true when it answered
   * itself (a browser form's logout with an expired cookie still clears it and redirects).
   */
  signedOut?(ctx: Context): boolean;
  handler(ctx: Context, call: AuthedRouteCall<U, ID, B>): Promise<unknown>;
}

/** One route of a router's table: everything mounting and the OpenAPI document need. */
export type RouteSpec<U extends UserProtocol<ID>, ID, B = unknown> =
  | PublicRouteSpec<U, ID, B>
  | AuthedRouteSpec<U, ID, B>;

/**
 * Declares a route anyone may call, inferring the body's type from its schema. The
 * result is a table entry of unknown body: mounting validates the body with that schema.
 */
export function publicRoute<U extends UserProtocol<ID>, ID, B = undefined>(
  spec: Omit<PublicRouteSpec<U, ID, B>, "who">,
): RouteSpec<U, ID> {
  return { ...spec, who: "anyone" } as RouteSpec<U, ID>;
}

/** Declares a route for an authenticated user (`who: "user"`) or a superuser. */
export function userRoute<U extends UserProtocol<ID>, ID, B = undefined>(
  spec: AuthedRouteSpec<U, ID, B>,
): RouteSpec<U, ID> {
  return spec as RouteSpec<U, ID>;
}

/** The requirements `currentUser` semantics apply to an authenticated route. */
export function requirements(
  spec: Pick<AuthedRouteSpec<never, never, unknown>, "who" | "verified" | "backends">,
): CurrentUserOptions {
  return {
    active: true,
    verified: spec.verified ?? false,
    superuser: spec.who === "superuser",
    ...(spec.backends ? { backends: spec.backends } : {}),
  };
}
