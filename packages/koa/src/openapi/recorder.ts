import type { Router } from "@koa/router";
import type { UserProtocol } from "@tessera/core";
import { HttpErrorCode } from "../error-codes.js";
import type { RateLimiter } from "../rate-limit/limiter.js";
import type { RateLimitedRoute } from "../rate-limit/options.js";
import { type AuthRouterOptions, loginForm } from "../routers/auth.js";
import { forgotBody, resetBody } from "../routers/reset.js";
import type { UsersRouterOptions } from "../routers/users.js";
import { emailBody, tokenBody } from "../routers/verify.js";
import type { UserSchemas } from "../schemas.js";
import {
  describeRegisterRouter,
  describeResetPasswordRouter,
  describeVerifyRouter,
} from "./account-operations.js";
import { describeAuthRouter } from "./auth-operations.js";
import { createDocsRouter, type DocsRouterOptions } from "./docs-router.js";
import { buildDocument, type DocumentedBackend, type OpenAPIOptions } from "./document.js";
import { type SchemaSource, userReadSchema } from "./json-schema.js";
import { OpenAPIRegistry, type RouterDescriber } from "./registry.js";
import { type CsrfDoc, tooManyRequests } from "./responses.js";
import type { OpenAPIDocument } from "./types.js";
import { describeUsersRouter } from "./users-operations.js";

const TOO_MANY = HttpErrorCode.TOO_MANY_REQUESTS;

/**
 * What `Tessera` keeps for OpenAPI: each router factory hands it the router it made,
 * with the very schemas the router validates with, and it answers the document. The
 * request bodies' schemas are the routers' own exports, so the two cannot disagree.
 */
export class OpenAPIRecorder<U extends UserProtocol<unknown>> {
  /** Every recorded router and its description. */
  readonly registry = new OpenAPIRegistry();
  private readonly read: SchemaSource;

  /** `csrf`, `rateLimiter`: Tessera's protections, or null when off. */
  constructor(
    private readonly backends: readonly DocumentedBackend[],
    schemas: UserSchemas<U>,
    private readonly csrf: CsrfDoc | null,
    private readonly rateLimiter: RateLimiter | null = null,
  ) {
    this.read = schemas.readSchema ?? userReadSchema;
  }

  /** Records an `authRouter(backend, options)`. */
  auth(router: Router, backend: DocumentedBackend, options: AuthRouterOptions): Router {
    const describe = describeAuthRouter(backend, options, loginForm, this.csrf);
    const limited = this.limited({ "post /login": ["login", HttpErrorCode.LOGIN_BAD_CREDENTIALS] });
    return this.registry.record(router, limited(describe));
  }

  /** Records a `registerRouter()` validating with `createSchema`. */
  register(router: Router, createSchema: SchemaSource): Router {
    const limited = this.limited({ "post /register": ["register", TOO_MANY] });
    return this.registry.record(router, limited(describeRegisterRouter(createSchema, this.read)));
  }

  /** Records a `verifyRouter()`. */
  verify(router: Router): Router {
    const bodies = { requestToken: emailBody, verify: tokenBody };
    const limited = this.limited({
      "post /request-verify-token": ["requestVerifyToken", TOO_MANY],
    });
    return this.registry.record(router, limited(describeVerifyRouter(bodies, this.read)));
  }

  /** Records a `resetPasswordRouter()`. */
  resetPassword(router: Router): Router {
    const bodies = { forgot: forgotBody, reset: resetBody };
    const limited = this.limited({
      "post /forgot-password": ["forgotPassword", TOO_MANY],
      "post /reset-password": ["resetPassword", TOO_MANY],
    });
    return this.registry.record(router, limited(describeResetPasswordRouter(bodies)));
  }

  /** Records a `usersRouter(options)` validating updates with `updateSchema`. */
  users(router: Router, updateSchema: SchemaSource, options: UsersRouterOptions): Router {
    // A cookie-authenticated change is CSRF-checked: only when some backend uses cookies.
    const csrf = this.backends.some((b) => this.csrf?.applies(b.transport)) ? this.csrf : null;
    const describe = describeUsersRouter(updateSchema, this.read, options, csrf);
    // Checking current_password counts like a login attempt.
    const limited = this.limited({
      "patch /me": ["login", HttpErrorCode.UPDATE_USER_INVALID_CURRENT_PASSWORD],
    });
    return this.registry.record(router, limited(describe));
  }

  /** Adds a 429 to the routes (`"method /path"`) whose limits are on. */
  private limited(
    routes: Record<string, [RateLimitedRoute, string]>,
  ): (describe: RouterDescriber) => RouterDescriber {
    const limiter = this.rateLimiter;
    if (!limiter) return (describe) => describe;
    return (describe) => (context) => {
      const doc = describe(context);
      return {
        ...doc,
        routes: doc.routes.map((route) => {
          const limit = routes[`${route.method} ${route.path}`];
          if (!limit || !limiter.limits(limit[0])) return route;
          const responses = { ...route.operation.responses, "429": tooManyRequests(limit[1]) };
          return { ...route, operation: { ...route.operation, responses } };
        }),
      };
    };
  }

  /** The OpenAPI 3.1 document of what is recorded. */
  document(options: OpenAPIOptions = {}): OpenAPIDocument {
    return buildDocument(this.registry, this.backends, options);
  }

  /** The router serving the document and the Swagger UI page. */
  docsRouter(options: DocsRouterOptions = {}): Router {
    return createDocsRouter((info) => this.document(info), options);
  }
}
