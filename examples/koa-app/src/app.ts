import { DatabaseStrategy } from "@tessera/strategy-database";
import type { Redis } from "ioredis";
import Koa from "koa";
import { accessLog } from "./access-log.js";
import { ensureAdmin } from "./admin.js";
import { type Auth, createAuth, SESSION_LIFETIME } from "./auth.js";
import type { Config } from "./config.js";
import { openStore, type Store } from "./db/index.js";
import { healthRouter } from "./health.js";
import { createLogger, type Logger } from "./logger.js";
import { createMailer, type Mailer } from "./mail.js";
import { callbackLanding, createOAuth, type OAuthSetup, oauthRouters } from "./oauth.js";
import { pagesRouter } from "./pages.js";
import { preferencesRouter } from "./preferences.js";
import { openRedis } from "./redis.js";
import { loadSecrets, type SecretSource } from "./secrets.js";
import { securityRouter } from "./security.js";
import { loadSigningKeys } from "./signing-keys.js";

/** A built app, not yet listening: `server.ts` listens, tests may too. */
export interface ExampleApp {
  app: Koa;
  config: Config;
  store: Store;
  auth: Auth;
  redis: Redis | undefined;
  /** The "Sign in with …" providers and their flows (none unless `OAUTH_*` is set). */
  oauth: OAuthSetup;
  /** Where the master secret came from, and the file it is kept in. */
  secret: { source: SecretSource; file?: string | undefined };
  /** Where the access tokens' signing keys came from (`DATA_DIR/jwks.json`). */
  signingKeys: { source: Exclude<SecretSource, "env">; file: string };
  /** Stops the timers and closes the database, Redis and the mailer. */
  close(): Promise<void>;
}

/** Expired tokens are refused on read anyway; this keeps the table from growing. */
const CLEANUP_INTERVAL_MS = 3600_000;

/**
 * Builds the whole app from a configuration: opens the database (creating its schema),
 * Redis and the mailer, creates the admin, and mounts every router.
 *
 * @example
 * const example = await createApp(loadConfig());
 * example.app.listen(example.config.port);
 */
export async function createApp(config: Config, log: Logger = createLogger()): Promise<ExampleApp> {
  const { secrets, source, file } = loadSecrets(config.secret, config.dataDir);
  const signingKeys = loadSigningKeys(config.dataDir);
  const { keys } = signingKeys;
  const store = await openStore(config.database, SESSION_LIFETIME.maxLifetimeSeconds);
  let redis: Redis | undefined;
  let auth: Auth;
  let oauth: OAuthSetup;
  let mailer: Mailer | undefined;
  try {
    redis = config.redisUrl ? await openRedis(config.redisUrl, log) : undefined;
    mailer = createMailer(config.mail, log);
    auth = createAuth({ config, secrets, keys, store, redis, mailer, log });
    oauth = createOAuth({ config, secrets, redis });
    if (config.admin) await ensureAdmin(auth.userManager(), config.admin, log);
  } catch (error) {
    mailer?.close();
    redis?.disconnect();
    await store.close();
    throw error;
  }

  const { tessera } = auth;
  const app = new Koa();
  app.on("error", (error: unknown) => log.error("request failed:", error));
  // One JSON line per request (with pino; tests' stub loggers have none), first so that it
  // times the whole request and every later line of the request carries its id.
  if (log.pino) app.use(accessLog(log.pino));
  // Readiness for a load balancer: the database and Redis each answer a ping within 1 s.
  // Before the unit of work (it needs none); no auth, no rate limit, not in the OpenAPI.
  const checks = [{ name: "database", ping: () => store.ping() }];
  if (redis) {
    const client = redis;
    checks.push({ name: "redis", ping: () => client.ping().then(() => undefined) });
  }
  app.use(healthRouter(checks, { log }).routes());
  app.use(store.scope);
  app.use(pagesRouter().routes());
  for (const backend of auth.backends) {
    app.use(tessera.authRouter(backend, { prefix: `/auth/${backend.name}` }).routes());
  }
  // "Sign in with …": after the auth routers (the refresh cookie's path comes from the
  // page backend's). The callback logs in with the page's own backend, as its login form.
  const pageBackend = auth.backends.find((b) => b.name === "refresh-cookie");
  if (!pageBackend) throw new Error("the page's refresh-cookie backend is missing");
  app.use(callbackLanding(oauth));
  for (const router of oauthRouters(tessera, pageBackend, oauth)) app.use(router.routes());
  // The public half of the access tokens' keys, so other services verify them with any
  // JOSE library (jose's createRemoteJWKSet). The private JWK Set stays in DATA_DIR.
  app.use(tessera.jwksRouter(keys).routes());
  app.use(tessera.registerRouter({ prefix: "/auth" }).routes());
  app.use(tessera.verifyRouter({ prefix: "/auth" }).routes());
  app.use(tessera.resetPasswordRouter({ prefix: "/auth" }).routes());
  app.use(tessera.usersRouter({ prefix: "/users" }).routes());
  // The signed-in user's second factor (/users/me/mfa…) and passkeys (/users/me/passkeys…);
  // the login's second step and the passkey login are on every auth router above.
  app.use(tessera.mfaRouter({ prefix: "/users" }).routes());
  if (auth.passkeys) app.use(tessera.passkeysRouter({ prefix: "/users" }).routes());
  // The app's own routes: the page's preference, kept in the session's data.
  app.use(preferencesRouter(tessera).routes());
  // What the page's Security panel offers, and the TOTP enrolment's URI as a QR code.
  app.use(securityRouter(tessera, { passkeys: auth.passkeys }).routes());
  // The OpenAPI document of every router above, and Swagger UI to try them.
  app.use(
    tessera
      .docsRouter({
        title: "Tessera example",
        version: "1.0.0",
        description: "Tessera's example app: every backend and router. The web page is at `/`.",
        openapiPath: "/openapi.json",
        docsPath: "/docs",
      })
      .routes(),
  );

  const cleanup = setInterval(() => {
    new DatabaseStrategy({ database: store.tokens() })
      .deleteExpired()
      .then((n) => n > 0 && log.info(`cleanup: deleted ${n} expired tokens`))
      .catch((error: unknown) => log.warn("cleanup: expired tokens not deleted:", error));
  }, CLEANUP_INTERVAL_MS);
  cleanup.unref();

  return {
    app,
    config,
    store,
    auth,
    redis,
    oauth,
    secret: { source, file },
    signingKeys: { source: signingKeys.source, file: signingKeys.file },
    async close() {
      clearInterval(cleanup);
      await auth.flushMail();
      mailer?.close();
      redis?.disconnect();
      await store.close();
    },
  };
}
