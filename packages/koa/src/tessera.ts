import {
  type AuditLog,
  type AuthenticationBackend,
  Authenticator,
  type AuthResult,
  ConfigurationError,
  type CurrentUserOptions,
  type PasswordLengthBounds,
  type PasswordPolicyOptions,
  passwordLengthBounds,
  type SessionDevice,
  type UserManager,
  type UserProtocol,
} from "@tessera/core";
import type { Context, Middleware } from "koa";
import { auditAuthentication, type KoaAuditSink, koaAuditLog, setAuditSubject } from "./audit.js";
import { DEFAULT_BODY_LIMIT } from "./body.js";
import { authRequest, type TesseraState } from "./context.js";
import { type CsrfOptions, CsrfProtection } from "./csrf.js";
import { raise } from "./http-error.js";
import { createDocsRouter, type DocsRouterOptions } from "./openapi/docs-router.js";
import { buildDocument, type DocumentContext, type OpenAPIOptions } from "./openapi/document.js";
import { userReadSchema } from "./openapi/json-schema.js";
import { OpenAPIRegistry } from "./openapi/registry.js";
import type { OpenAPIDocument } from "./openapi/types.js";
import { ClientAddress } from "./rate-limit/client-address.js";
import { RateLimiter } from "./rate-limit/limiter.js";
import type { RateLimitOptions } from "./rate-limit/options.js";
import type { RouterDeps, RouterOptions } from "./route/deps.js";
import { mountRoutes } from "./route/mount.js";
import { TesseraRouter } from "./route/router.js";
import type { RouteSpec } from "./route/spec.js";
import { type AuthRouterOptions, authRoutes } from "./routers/auth.js";
import { type JwksRouterOptions, type JwksSource, jwksRouter } from "./routers/jwks.js";
import { type MfaRouterOptions, type MfaSetup, mfaRoutes } from "./routers/mfa.js";
import {
  type OAuthAccountsRouterOptions,
  type OAuthAssociateRouterOptions,
  type OAuthFlowLike,
  type OAuthRouterOptions,
  oauthAccountRoutes,
  oauthAssociateRoutes,
  oauthRoutes,
} from "./routers/oauth.js";
import {
  type PasskeySetup,
  type PasskeysRouterOptions,
  passkeyRoutes,
} from "./routers/passkeys.js";
import { registerRoutes } from "./routers/register.js";
import { resetPasswordRoutes } from "./routers/reset.js";
import { type UsersRouterOptions, usersRoutes } from "./routers/users.js";
import { verifyRoutes } from "./routers/verify.js";
import { readUser, type UserSchemas, userCreateSchema, userUpdateSchema } from "./schemas.js";
import { requestSession } from "./session.js";

/** Options of {@link Tessera}. */
export interface TesseraOptions<U extends UserProtocol<ID>, ID> {
  /** The user manager for a request (construct it per request around a request-scoped db). */
  getUserManager: (ctx: Context) => UserManager<U, ID> | Promise<UserManager<U, ID>>;
  /** Authentication backends, tried in order by `currentUser`. Names must be unique. */
  backends: readonly AuthenticationBackend<U, ID, Context>[];
  /** Wire schemas, to add the app's own user fields. */
  schemas?: UserSchemas<U>;
  /** Largest accepted request body in bytes; larger ones get 413. @default 102400 */
  bodyLimit?: number;
  /**
   * CSRF protection of cookie backends (same-origin check, double-submit token for
   * clients without Fetch metadata); `false` turns it off (only for non-browser clients).
   * @default on, same host only, a random signing key per process
   */
  csrf?: CsrfOptions | false;
  /**
   * Rate limiting of `/login`, `/register`, `/forgot-password`, `/request-verify-token` and
   * `/reset-password`, per account and per client address; `false` turns it off.
   * @default on, with `DEFAULT_RATE_LIMITS`, counted in process memory
   */
  rateLimit?: RateLimitOptions | false;
  /**
   * The password policy's length bounds, as the OpenAPI document states them on every new
   * password field. Give the same bounds as your `UserManager`'s `passwordPolicy`: each
   * request's manager is checked against them, and a mismatch is a `ConfigurationError`.
   * @default { minLength: 8, maxLength: 1024 } (the default policy's)
   */
  passwordPolicy?: Pick<PasswordPolicyOptions, "minLength" | "maxLength">;
  /**
   * Second factors (`@tessera/mfa`, an optional peer): every auth router's login asks a user
   * with a factor for a code (`400 LOGIN_MFA_REQUIRED` with an `mfa_token`, completed at
   * `POST {prefix}/login/mfa`), and `mfaRouter` manages the factor. Users without one log
   * in as before.
   * @default none
   */
  mfa?: MfaSetup<U, ID>;
  /**
   * Passkeys (`@tessera/passkeys`, an optional peer): every auth router gains
   * `POST {prefix}/passkey/options` and `/passkey/login`, and `passkeysRouter` manages them.
   * @default none
   */
  passkeys?: PasskeySetup<U, ID>;
  /**
   * The audit stream (ASVS 5.0 16.3): one call per security event — logins and failed
   * logins, rate-limited attempts, CSRF refusals, refused tokens, denied access, token
   * theft, ended sessions, failed re-authentications, second-factor changes — with the
   * request's Koa context. Every request's user manager is attached to it too, so the
   * app subscribes here only. Not awaited: a sink that throws or is slow fails and delays
   * no request (a failure goes to the app's `error` event). Events never hold a password,
   * a token, a digest or a code. See `docs/audit.md` for the events and their fields.
   * @default none
   */
  onAuditEvent?: KoaAuditSink;
}

/**
 * Tessera for Koa: routers with FastAPI Users' wire contract and a `currentUser`
 * middleware.
 *
 * @example
 * const tessera = new Tessera({ getUserManager, backends: [jwtBackend] });
 * app.use(tessera.authRouter(jwtBackend, { prefix: "/auth/jwt" }).routes());
 * app.use(tessera.registerRouter({ prefix: "/auth" }).routes());
 * app.use(tessera.usersRouter({ prefix: "/users" }).routes());
 * router.get("/private", tessera.currentUser({ active: true }), (ctx) => {
 *   ctx.body = `Hello ${ctx.state.user.email}`;
 * });
 */
export class Tessera<U extends UserProtocol<ID>, ID = U["id"]> {
  readonly authenticator: Authenticator<U, ID, Context>;
  private readonly deps: RouterDeps<U, ID>;
  private readonly schemas: UserSchemas<U>;
  private readonly registry = new OpenAPIRegistry();
  private readonly documentContext: DocumentContext;
  private readonly backends: readonly AuthenticationBackend<U, ID, Context>[];
  private readonly checkCsrf: (ctx: Context, result: AuthResult<U, ID, Context> | null) => void;
  private readonly mfa: MfaSetup<U, ID> | undefined;
  private readonly passkeys: PasskeySetup<U, ID> | undefined;
  private readonly audit: AuditLog | null;

  constructor(options: TesseraOptions<U, ID>) {
    this.authenticator = new Authenticator(options.backends);
    this.schemas = options.schemas ?? {};
    const backends = options.backends;
    this.backends = backends;
    this.mfa = options.mfa;
    this.passkeys = options.passkeys;
    const address = new ClientAddress(
      options.rateLimit === false ? [] : (options.rateLimit?.trustedProxies ?? []),
    );
    const audit = options.onAuditEvent
      ? koaAuditLog(options.onAuditEvent, (ctx) => deviceOf(address, ctx))
      : null;
    this.audit = audit;
    const csrf =
      options.csrf === false
        ? null
        : new CsrfProtection(
            options.csrf,
            audit === null
              ? undefined
              : (ctx, reason) =>
                  audit.emit(
                    {
                      type: "csrf_refused",
                      reason,
                      origin: ctx.get("origin") || null,
                      fetchSite: ctx.get("sec-fetch-site") || null,
                    },
                    ctx,
                  ),
          );
    const rateLimiter =
      options.rateLimit === false
        ? null
        : new RateLimiter(
            options.rateLimit,
            audit === null
              ? undefined
              : (event, account, ctx) =>
                  audit.emit(
                    {
                      type: "rate_limited",
                      reason: "too_many_attempts",
                      limiter: event.route,
                      scope: event.scope,
                      retryAfterSeconds: event.retryAfterSeconds,
                      // The account counted, when it is an email (a user id is no address).
                      ...(account?.includes("@") ? { email: account } : {}),
                    },
                    ctx,
                  ),
          );
    const bounds = passwordLengthBounds(options.passwordPolicy);
    this.documentContext = {
      csrf,
      rateLimiter,
      readSchema: this.schemas.readSchema ?? userReadSchema,
      facts: { passwordBounds: bounds },
    };
    // Every manager learns the backends, so its user changes reach every strategy
    // (password changes and deactivations end sessions everywhere); and its password
    // bounds must be the ones the document states.
    const checked = new WeakSet<UserManager<U, ID>>();
    const attach = (userManager: UserManager<U, ID>) => {
      userManager.attachBackends(backends);
      if (audit) userManager.attachAudit(audit);
      if (!checked.has(userManager)) {
        checkBounds(userManager, bounds);
        checked.add(userManager);
      }
      return userManager;
    };
    // No promise of our own when the app's factory is synchronous (the usual case): this
    // runs on every authenticated request.
    const getUserManager = (ctx: Context) => {
      const made = options.getUserManager(ctx);
      return isPromiseLike(made) ? Promise.resolve(made).then(attach) : attach(made);
    };
    // A state-changing request that a cookie backend authenticated must pass CSRF (403).
    const checkCsrf = (ctx: Context, result: AuthResult<U, ID, Context> | null) => {
      if (result && csrf?.applies(result.backend.transport)) {
        // A refusal is audited with the user the cookie authenticated.
        if (audit) setAuditSubject(ctx, { user: result.user, backend: result.backend.name });
        csrf.check(ctx);
      }
    };
    this.checkCsrf = checkCsrf;
    this.deps = {
      getUserManager,
      authenticator: this.authenticator,
      authenticate: async (ctx, requirements) => {
        const made = getUserManager(ctx);
        const userManager = isPromiseLike(made) ? await made : made;
        let result: AuthResult<U, ID, Context> | null;
        try {
          result = await this.authenticator.authenticate(
            ctx,
            authRequest(ctx),
            userManager,
            requirements,
          );
        } catch (error) {
          auditAuthentication(audit, ctx, error);
          throw error;
        }
        checkCsrf(ctx, result);
        return { userManager, result };
      },
      csrf,
      rateLimiter,
      audit,
      bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
      device: (ctx) => deviceOf(address, ctx),
      read: this.schemas.read ?? readUser,
    };
  }

  /**
   * Middleware that authenticates the request and sets `ctx.state.user` and
   * `ctx.state.auth`; throws 401/403 (FastAPI Users' `current_user(...)` semantics) as
   * {@link HttpError}s that the app's error middleware sees, rendered as FastAPI Users'
   * JSON when nothing catches them.
   */
  currentUser(options: CurrentUserOptions = {}): Middleware<TesseraState<U, ID>> {
    // This runs on every authenticated request: one async frame, no objects but the
    // request adapter and the result (the routers' `deps.authenticate` also returns the
    // user manager, which this does not need).
    const { authenticator, getUserManager } = this.deps;
    const { checkCsrf, audit } = this;
    return async (ctx, next) => {
      let result: AuthResult<U, ID, Context> | null;
      const context = ctx as unknown as Context;
      try {
        const made = getUserManager(context);
        const userManager = isPromiseLike(made) ? await made : made;
        result = await authenticator.authenticate(
          context,
          authRequest(context),
          userManager,
          options,
        );
        checkCsrf(context, result);
      } catch (error) {
        auditAuthentication(audit, context, error);
        raise(context, error);
      }
      ctx.state.user = result === null ? null : result.user;
      ctx.state.auth = result;
      ctx.state.session = requestSession(context, result);
      await next();
    };
  }

  /** A router of `table`, recorded for the OpenAPI document. */
  private router(table: readonly RouteSpec<U, ID>[], options: RouterOptions): TesseraRouter {
    const router = new TesseraRouter(options.prefix ? { prefix: options.prefix } : {});
    return this.registry.record(mountRoutes(router, table, this.deps));
  }

  /**
   * `POST /login`, `POST /logout`, `POST /logout-all` for `backend` (and `POST /refresh` for
   * a refresh-token strategy); with `mfa`, `POST /login/mfa` and the enrolment's
   * `POST /login/mfa/enrol[/confirm]`; with `passkeys`, `POST /passkey/options` and
   * `POST /passkey/login`.
   */
  authRouter(
    backend: AuthenticationBackend<U, ID, Context>,
    options: AuthRouterOptions = {},
  ): TesseraRouter {
    return this.router(
      authRoutes(backend, options, this.deps.csrf, this.deps.device, {
        mfa: this.mfa,
        passkeys: this.passkeys,
      }),
      options,
    );
  }

  /** `POST /register`. */
  registerRouter(options: RouterOptions = {}): TesseraRouter {
    const create = this.schemas.create ?? userCreateSchema;
    return this.router(registerRoutes<U, ID>(create, this.deps.read), options);
  }

  /** `POST /request-verify-token`, `POST /verify`. */
  verifyRouter(options: RouterOptions = {}): TesseraRouter {
    return this.router(verifyRoutes<U, ID>(this.deps.read), options);
  }

  /** `POST /forgot-password`, `POST /reset-password`. */
  resetPasswordRouter(options: RouterOptions = {}): TesseraRouter {
    return this.router(resetPasswordRoutes<U, ID>(), options);
  }

  /** `GET/PATCH /me`, `GET /me/sessions`, `DELETE /me/sessions/{id}`, `GET/PATCH/DELETE /{id}`. */
  usersRouter(options: UsersRouterOptions = {}): TesseraRouter {
    const update = this.schemas.update ?? userUpdateSchema;
    return this.router(usersRoutes(update, this.deps.read, options, this.backends), options);
  }

  /**
   * `GET /authorize` and `GET /callback`: sign in with an OAuth2 / OpenID Connect provider
   * (FastAPI Users' `get_oauth_router`), logged in through `backend` as its `/login` does.
   * `flow` is `@tessera/oauth`'s `OAuthFlow` (an optional peer dependency); its
   * `redirectUri` is this router's `/callback` (or a front-end page that calls it with the
   * query it received).
   *
   * @example
   * const flow = new OAuthFlow({ provider: google({ clientId, clientSecret }),
   *   redirectUri: "https://app.example.com/auth/google/callback", stateSecret, tokenCipher });
   * app.use(tessera.oauthRouter(flow, cookieBackend, { prefix: "/auth/google" }).routes());
   */
  oauthRouter(
    flow: OAuthFlowLike,
    backend: AuthenticationBackend<U, ID, Context>,
    options: OAuthRouterOptions = {},
  ): TesseraRouter {
    return this.router(
      oauthRoutes(flow, backend, options, this.deps.csrf, this.deps.device),
      options,
    );
  }

  /**
   * `GET /authorize` and `GET /callback` for a signed-in user: link a provider account
   * (FastAPI Users' `get_oauth_associate_router`); the callback answers the user. The flow's
   * `associateRedirectUri` is this router's `/callback` (or a front-end page that calls it).
   *
   * @example
   * app.use(tessera.oauthAssociateRouter(flow, { prefix: "/auth/associate/google" }).routes());
   */
  oauthAssociateRouter(
    flow: OAuthFlowLike,
    options: OAuthAssociateRouterOptions = {},
  ): TesseraRouter {
    return this.router(oauthAssociateRoutes<U, ID>(flow, this.deps.read, options), options);
  }

  /**
   * `GET /me/oauth-accounts` (the user's linked provider accounts, never their tokens) and
   * `DELETE /me/oauth-accounts/{accountId}`; mount it beside the users router.
   *
   * @example
   * app.use(tessera.oauthAccountsRouter({ prefix: "/users" }).routes());
   */
  oauthAccountsRouter(options: OAuthAccountsRouterOptions = {}): TesseraRouter {
    return this.router(oauthAccountRoutes<U, ID>(options), options);
  }

  /**
   * The signed-in user's TOTP factor (`@tessera/mfa`): `GET /me/mfa`, `POST /me/mfa/totp`
   * (enrol), `POST /me/mfa/totp/confirm`, `POST /me/mfa/totp/disable`,
   * `POST /me/mfa/recovery-codes`; mount it beside the users router. Needs the instance's
   * `mfa`, or `setup`.
   *
   * @example
   * app.use(tessera.mfaRouter({ prefix: "/users" }).routes());
   */
  mfaRouter(
    options: MfaRouterOptions = {},
    setup: MfaSetup<U, ID> | undefined = this.mfa,
  ): TesseraRouter {
    if (!setup) throw new ConfigurationError("mfaRouter needs Tessera's mfa option (or a setup)");
    return this.router(mfaRoutes(setup, options), options);
  }

  /**
   * The signed-in user's passkeys (`@tessera/passkeys`): `POST /me/passkeys/options`,
   * `POST /me/passkeys` (register), `GET /me/passkeys`, `DELETE /me/passkeys/{passkeyId}`;
   * mount it beside the users router. Needs the instance's `passkeys`, or `setup`.
   *
   * @example
   * app.use(tessera.passkeysRouter({ prefix: "/users" }).routes());
   */
  passkeysRouter(
    options: PasskeysRouterOptions = {},
    setup: PasskeySetup<U, ID> | undefined = this.passkeys,
  ): TesseraRouter {
    if (!setup) {
      throw new ConfigurationError("passkeysRouter needs Tessera's passkeys option (or a setup)");
    }
    return this.router(passkeyRoutes(setup, options), options);
  }

  /**
   * The OpenAPI 3.1 document of the routers this instance made, read from their route
   * tables: paths with their prefixes, the app's own schemas, every backend's security.
   *
   * @example
   * const document = tessera.openapi({ title: "My API", version: "1.0.0" });
   */
  openapi(options: OpenAPIOptions = {}): OpenAPIDocument {
    return buildDocument(this.registry, this.backends, this.documentContext, options);
  }

  /**
   * `GET /.well-known/jwks.json`: the public keys of `keys` (key sets, or strategies with
   * one), as the standalone {@link jwksRouter}, and in this instance's OpenAPI document.
   *
   * @example
   * app.use(tessera.jwksRouter([refreshStrategy.keys]).routes());
   */
  jwksRouter(
    keys: JwksSource | readonly JwksSource[],
    options: JwksRouterOptions = {},
  ): TesseraRouter {
    return this.registry.record(jwksRouter(keys, options));
  }

  /**
   * A router serving {@link Tessera.openapi}'s document at `/openapi.json` and Swagger UI at
   * `/docs`, with its assets from the optional peer dependency `swagger-ui-dist` (no CDN).
   *
   * @example
   * app.use(tessera.docsRouter({ title: "My API" }).routes());
   */
  docsRouter(options: DocsRouterOptions = {}): TesseraRouter {
    return createDocsRouter((info) => this.openapi(info), options);
  }
}

/** The device a login comes from: the client address as the rate limiter keys it. */
function deviceOf(address: ClientAddress, ctx: Context): SessionDevice {
  const forwarded = ctx.req.headers["x-forwarded-for"];
  const ip = address.resolve(
    ctx.req.socket.remoteAddress,
    Array.isArray(forwarded) ? forwarded.join(",") : forwarded,
  );
  const userAgent = ctx.req.headers["user-agent"];
  return {
    ipAddress: ip === "unknown" ? null : ip,
    userAgent: typeof userAgent === "string" && userAgent !== "" ? userAgent : null,
  };
}

/** The manager's password bounds must be the document's (see `passwordPolicy`). */
function checkBounds(
  userManager: Pick<UserManager<never, never>, "passwordLengthBounds">,
  bounds: PasswordLengthBounds,
): void {
  const own = userManager.passwordLengthBounds();
  if (own.minLength !== bounds.minLength || own.maxLength !== bounds.maxLength) {
    throw new ConfigurationError(
      `The user manager's password length bounds (${own.minLength}–${own.maxLength}) differ ` +
        `from Tessera's passwordPolicy (${bounds.minLength}–${bounds.maxLength}), which the ` +
        "OpenAPI document states: pass the same bounds to both",
    );
  }
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
