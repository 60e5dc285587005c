import type { Layer } from "@koa/router";
import {
  type AuthResponse,
  isTesseraError,
  UnauthorizedError,
  type UserProtocol,
} from "@tessera/core";
import type { Context, Middleware } from "koa";
import { auditRefusal, bindAudit, setAuditSubject } from "../audit.js";
import { readFormBody, readJsonBody } from "../body.js";
import { writeAuthResponse, writeJsonNull } from "../context.js";
import { HttpError, raise } from "../http-error.js";
import type { RateLimitAttempt } from "../rate-limit/limiter.js";
import { parseBody } from "../schemas.js";
import { requestSession } from "../session.js";
import type { RouterDeps } from "./deps.js";
import { shadowed, type TesseraRouter } from "./router.js";
import { type RouteError, type RouteSpec, requirements } from "./spec.js";

/** Where a mounted route's middleware keeps its spec, for the OpenAPI document. */
export const ROUTE_SPEC = Symbol("tessera.routeSpec");

/** A route's middleware, carrying the spec it was made from. */
export type SpecMiddleware = Middleware & { [ROUTE_SPEC]: RouteSpec<never, never> };

/** The spec a layer's middleware was made from, if a route table made it. */
export function specOf(stack: readonly unknown[]): RouteSpec<never, never> | undefined {
  for (const fn of stack) {
    const spec = (fn as Partial<SpecMiddleware>)[ROUTE_SPEC];
    if (spec) return spec;
  }
  return undefined;
}

/** Registers every route of `table` on `router`; returns the router. */
export function mountRoutes<U extends UserProtocol<ID>, ID>(
  router: TesseraRouter,
  table: readonly RouteSpec<U, ID>[],
  deps: RouterDeps<U, ID>,
): TesseraRouter {
  for (const spec of table) {
    const run = routeMiddleware(spec, deps);
    const middleware = ((ctx: Context, next: () => Promise<unknown>) =>
      shadowed(ctx, layer, router) ? next() : run(ctx, next)) as SpecMiddleware;
    middleware[ROUTE_SPEC] = spec as unknown as RouteSpec<never, never>;
    // One path, so one layer (an array of paths would register several).
    const layer = router.register(spec.path, [spec.method.toUpperCase()], [middleware]) as Layer;
  }
  return router;
}

/** The answer `error` stands for on this route: a declared one, or a common one. */
function answer(spec: RouteSpec<never, never>, error: unknown): unknown {
  if (error instanceof RouteFailure) {
    const declared = spec.errors?.find((e) => e.code === error.code);
    if (declared) return new HttpError(declared.status, error.code);
    // A handler answering what its spec does not declare is a bug in Tessera.
    return new Error(`${spec.operationId} failed with undeclared code ${error.code}`);
  }
  if (isTesseraError(error)) {
    const declared = spec.errors?.find((e) => e.on?.includes(error.code));
    if (declared)
      return new HttpError(declared.status, detailOf(declared, error), undefined, { cause: error });
  }
  return error;
}

function detailOf(declared: RouteError, error: unknown): unknown {
  if (declared.reason === undefined) return declared.code;
  const { reason, reasonCode } = error as { reason?: unknown; reasonCode?: unknown };
  return {
    code: declared.code,
    reason: typeof reason === "string" ? reason : (error as Error).message,
    reason_code: typeof reasonCode === "string" ? reasonCode : "PASSWORD_INVALID",
  };
}

/** Thrown by `call.fail(code)`: the route's declared error with that code. */
class RouteFailure extends Error {
  constructor(
    readonly code: string,
    readonly auditReason?: string,
  ) {
    super(code);
  }
}

function fail(code: string, auditReason?: string): never {
  throw new RouteFailure(code, auditReason);
}

const NOTHING_COUNTED: RateLimitAttempt = { refund: async () => {} };

function routeMiddleware<U extends UserProtocol<ID>, ID>(
  spec: RouteSpec<U, ID>,
  deps: RouterDeps<U, ID>,
): Middleware {
  const { rateLimiter, csrf, bodyLimit, audit } = deps;
  const bucket = spec.rateLimit;
  const attemptIn = (ctx: Context) =>
    bucket && rateLimiter
      ? (account: string | null) => rateLimiter.attempt(ctx, bucket.bucket, account, bucket.code)
      : async () => NOTHING_COUNTED;
  const csrfBackend =
    spec.who === "anyone" && spec.csrf !== undefined
      ? deps.authenticator.backends.find((b) => b.name === spec.backend)
      : undefined;
  const checksCsrf = csrfBackend !== undefined && csrf?.applies(csrfBackend.transport) === true;
  const csrfMode = { login: spec.who === "anyone" && spec.csrf === "login" };
  const required = spec.who === "anyone" ? null : requirements(spec);

  return async (ctx: Context) => {
    let body: unknown;
    if (audit) bindAudit(ctx, audit, spec.operationId);
    try {
      // Login CSRF: a cross-site form must not log the victim into the attacker's account.
      // A cookie refresh is a cookie-authenticated change: the full check.
      if (checksCsrf) {
        if (audit && csrfBackend) setAuditSubject(ctx, { backend: csrfBackend.name });
        csrf?.check(ctx, csrfMode);
      }
      let auth = null;
      let userManager = null;
      if (required) {
        try {
          ({ userManager, result: auth } = await deps.authenticate(ctx, required));
          if (!auth) throw new UnauthorizedError();
        } catch (error) {
          // Nobody signed in: a route may answer that itself (a browser form's logout).
          if (error instanceof UnauthorizedError && spec.who !== "anyone" && spec.signedOut?.(ctx))
            return;
          throw error;
        }
        // As currentUser() does, so hooks and the app's middleware after it see them.
        ctx.state.user = auth.user;
        ctx.state.auth = auth;
        ctx.state.session = requestSession(ctx, auth);
      }
      let raw: unknown;
      if (spec.body) {
        raw =
          spec.body.type === "form"
            ? await readFormBody(ctx, bodyLimit)
            : await readJsonBody(ctx, bodyLimit);
        body = parseBody(spec.body.schema, raw);
      }
      userManager ??= await deps.getUserManager(ctx);
      const call = { body, raw, userManager, attempt: attemptIn(ctx), fail };
      const result =
        spec.who === "anyone"
          ? await spec.handler(ctx, call)
          : await spec.handler(ctx, { ...call, auth: auth as NonNullable<typeof auth> });
      const response = spec.response;
      if ("transport" in response) {
        if (result !== undefined) writeAuthResponse(ctx, result as AuthResponse);
      } else if (response.body === null) {
        writeJsonNull(ctx, response.status);
      } else {
        ctx.status = response.status;
        if (response.body !== undefined) ctx.body = result;
      }
    } catch (error) {
      const answered = answer(spec as unknown as RouteSpec<never, never>, error);
      if (audit) {
        auditRefusal(ctx, answered, {
          signedIn: spec.who !== "anyone",
          path: spec.path,
          backend: spec.who === "anyone" ? spec.backend : undefined,
          body,
          reason: error instanceof RouteFailure ? error.auditReason : undefined,
        });
      }
      raise(ctx, answered);
    }
  };
}
