// Entry point: `node dist/server.js` (the repo's `npm start` builds and runs it).
import { once } from "node:events";
import { createApp } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { createLogger } from "./logger.js";

const started = performance.now();
// JSON lines on stdout (pino): these start-up lines, the access log, the audit events.
const log = createLogger();
// node:sqlite and the packages need Node 22.17+; many machines still run Node 20.
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 17)) {
  log.error(
    `koa-app: needs Node.js 22.17 or later, this is ${process.version}. ` +
      "Run `npm start` from the repository root: it brings its own Node.js.",
  );
  process.exit(1);
}
let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  log.error(`koa-app: ${error.message}`);
  process.exit(1);
}

let example: Awaited<ReturnType<typeof createApp>>;
try {
  example = await createApp(config, log);
} catch (error) {
  if (error instanceof ConfigError) log.error(`koa-app: ${error.message}`);
  else log.error("koa-app: could not start:", error);
  process.exit(1);
}
const server = example.app.listen(config.port, config.host);
await once(server, "listening");

const db = config.database;
log.info(`koa-app: database  ${db.kind} (${db.kind === "sqlite" ? db.file : redact(db.url)})`);
log.info(
  `koa-app: redis     ${config.redisUrl ? redact(config.redisUrl) : "off (set REDIS_URL for /auth/redis and a shared JWT denylist)"}`,
);
log.info(
  `koa-app: mail      ${config.mail.smtpUrl ? `SMTP ${redact(config.mail.smtpUrl)}` : `written to ${config.mail.outboxDir} (set SMTP_URL to send)`}`,
);
if (example.secret.source === "env") {
  log.info("koa-app: secrets   from TESSERA_SECRET");
} else {
  log.warn(
    `koa-app: secrets   ${example.secret.source === "generated" ? "generated into" : "read from"} ${example.secret.file}; set TESSERA_SECRET in production`,
  );
}
log.info(
  `koa-app: keys      ${example.signingKeys.source === "generated" ? "generated into" : "read from"} ${example.signingKeys.file} (access tokens of /auth/refresh*, public at /.well-known/jwks.json)`,
);
log.info(
  `koa-app: sign-in   ${
    config.oauth.length > 0
      ? config.oauth
          .map(
            (p) =>
              `${p.label} (${p.kind === "oidc" ? p.issuer : "GitHub"}) → ${config.appUrl}/auth/${p.name}/callback`,
          )
          .join(", ")
      : "password only (set OAUTH_<NAME>_ISSUER, _CLIENT_ID, _CLIENT_SECRET for Sign in with …)"
  }`,
);
log.info(`koa-app: started in ${Math.round(performance.now() - started)} ms`);
// The URL is followed by a space: tools read it with /listening on (\S+)/ from the JSON line.
log.info(`koa-app: listening on ${config.appUrl} (pid ${process.pid})`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info(`koa-app: ${signal}, stopping`);
    server.close();
    server.closeIdleConnections();
    example.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error("koa-app: shutdown failed:", error);
        process.exit(1);
      },
    );
  });
}

/** A URL without its password, for the log. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.href;
  } catch {
    return "(unparsable URL)";
  }
}
