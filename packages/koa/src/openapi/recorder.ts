import type { Router } from "@koa/router";
import type { UserProtocol } from "@tessera/core";
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
import { OpenAPIRegistry } from "./registry.js";
import type { CsrfDoc } from "./responses.js";
import type { OpenAPIDocument } from "./types.js";
import { describeUsersRouter } from "./users-operations.js";

/**
 * What `Tessera` keeps for OpenAPI: each router factory hands it the router it made,
 * with the very schemas the router validates with, and it answers the document. The
 * request bodies' schemas are the routers' own exports, so the two cannot disagree.
 */
export class OpenAPIRecorder<U extends UserProtocol<unknown>> {
  /** Every recorded router and its description. */
  readonly registry = new OpenAPIRegistry();
  private readonly read: SchemaSource;

  /** `csrf`: Tessera's CSRF protection, or null when it is off. */
  constructor(
    private readonly backends: readonly DocumentedBackend[],
    schemas: UserSchemas<U>,
    private readonly csrf: CsrfDoc | null,
  ) {
    this.read = schemas.readSchema ?? userReadSchema;
  }

  /** Records an `authRouter(backend, options)`. */
  auth(router: Router, backend: DocumentedBackend, options: AuthRouterOptions): Router {
    const describe = describeAuthRouter(backend, options, loginForm, this.csrf);
    return this.registry.record(router, describe);
  }

  /** Records a `registerRouter()` validating with `createSchema`. */
  register(router: Router, createSchema: SchemaSource): Router {
    return this.registry.record(router, describeRegisterRouter(createSchema, this.read));
  }

  /** Records a `verifyRouter()`. */
  verify(router: Router): Router {
    const bodies = { requestToken: emailBody, verify: tokenBody };
    return this.registry.record(router, describeVerifyRouter(bodies, this.read));
  }

  /** Records a `resetPasswordRouter()`. */
  resetPassword(router: Router): Router {
    const bodies = { forgot: forgotBody, reset: resetBody };
    return this.registry.record(router, describeResetPasswordRouter(bodies));
  }

  /** Records a `usersRouter(options)` validating updates with `updateSchema`. */
  users(router: Router, updateSchema: SchemaSource, options: UsersRouterOptions): Router {
    // A cookie-authenticated change is CSRF-checked: only when some backend uses cookies.
    const csrf = this.backends.some((b) => this.csrf?.applies(b.transport)) ? this.csrf : null;
    const describe = describeUsersRouter(updateSchema, this.read, options, csrf);
    return this.registry.record(router, describe);
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
