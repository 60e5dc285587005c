import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Where users and access tokens live. */
export type DatabaseConfig =
  | { kind: "sqlite"; file: string }
  | { kind: "postgresql"; url: string }
  | { kind: "mongodb"; url: string; dbName: string };

/** Everything the app reads from its environment, parsed and checked once at start-up. */
export interface Config {
  /** `PORT` @default 8000 */
  port: number;
  /** `HOST`: the interface to listen on. @default every interface */
  host: string | undefined;
  /**
   * `APP_URL`, no trailing slash: the links in mails point here, and the sign-in providers'
   * redirect URIs are built on it. @default http://localhost:{PORT}
   */
  appUrl: string;
  /** `DATA_DIR`: the SQLite file, the generated secret, the mail outbox. @default the app's data/ */
  dataDir: string;
  database: DatabaseConfig;
  /** `REDIS_URL`: enables the /auth/redis backend and the Redis JWT denylist. */
  redisUrl: string | undefined;
  /** `TESSERA_SECRET`: every signing secret is derived from it. @default generated into data/ */
  secret: string | undefined;
  /**
   * `TESSERA_ADMIN_EMAIL` + `TESSERA_ADMIN_PASSWORD`: a superuser made at start-up. Optional:
   * `tessera users create-superuser` makes one without a password in the environment.
   */
  admin: { email: string; password: string } | undefined;
  mail: {
    /** `SMTP_URL`, e.g. smtp://user:pass@smtp.example.com:587; unset: write .eml files. */
    smtpUrl: string | undefined;
    /** `MAIL_OUTBOX_DIR` @default {DATA_DIR}/outbox */
    outboxDir: string;
    /** `MAIL_FROM` @default "Tessera example <no-reply@localhost>" */
    from: string;
  };
  /** Secure cookies, unless the app is served over plain HTTP on this machine. */
  cookieSecure: boolean;
  /** `RATE_LIMIT=off` turns Tessera's rate limiting off (for load tests). @default on */
  rateLimit: boolean;
  /**
   * `TRUSTED_PROXIES`: comma-separated addresses or CIDR ranges of reverse proxies whose
   * X-Forwarded-For names the client, for rate limiting. @default none
   */
  trustedProxies: string[];
  /**
   * `ACCESS_TOKEN_LIFETIME_SECONDS`: how long an access token of the `refresh` and
   * `refresh-cookie` backends is valid; the client refreshes it after that. 1 to 86400.
   * @default 900 (15 minutes)
   */
  accessTokenLifetimeSeconds: number;
  /**
   * "Sign in with …" providers: one OpenID Connect provider per `OAUTH_<NAME>_ISSUER` +
   * `OAUTH_<NAME>_CLIENT_ID` + `OAUTH_<NAME>_CLIENT_SECRET`, and GitHub with
   * `OAUTH_GITHUB_CLIENT_ID` + `OAUTH_GITHUB_CLIENT_SECRET`. Sorted by name. @default none
   */
  oauth: OAuthProviderConfig[];
}

/** One configured sign-in provider. Its callbacks are `{APP_URL}/auth/[associate/]{name}/callback`. */
export type OAuthProviderConfig =
  | {
      kind: "oidc";
      /** `<NAME>` lower-cased, `_` as `-`: the routes' `{name}` and the stored `oauth_name`. */
      name: string;
      /** What the page's buttons say: "Sign in with {label}". */
      label: string;
      /** Discovery at `{issuer}/.well-known/openid-configuration`. */
      issuer: string;
      clientId: string;
      clientSecret: string;
      /** An `http:` issuer, allowed on loopback only (development, tests). */
      insecure: boolean;
    }
  | { kind: "github"; name: "github"; label: "GitHub"; clientId: string; clientSecret: string };

/** The app's own `data/` directory (beside `src/` and `dist/`). */
export const DEFAULT_DATA_DIR = fileURLToPath(new URL("../data", import.meta.url));

/** A configuration mistake, reported in one line at start-up instead of a stack trace. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Reads the configuration from environment variables (see README.md for the table).
 *
 * @example
 * const config = loadConfig({ PORT: "8080", DATABASE_URL: "postgres://localhost/app" });
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = parsePort(env.PORT);
  const appUrl = parseAppUrl(env.APP_URL ?? `http://localhost:${port}`);
  const dataDir = env.DATA_DIR ? resolve(env.DATA_DIR) : DEFAULT_DATA_DIR;
  const { hostname, protocol } = new URL(appUrl);
  return {
    port,
    host: env.HOST || undefined,
    appUrl,
    dataDir,
    database: parseDatabase(env, dataDir),
    redisUrl: env.REDIS_URL || undefined,
    secret: env.TESSERA_SECRET || undefined,
    admin: parseAdmin(env),
    mail: {
      smtpUrl: env.SMTP_URL || undefined,
      outboxDir: env.MAIL_OUTBOX_DIR ? resolve(env.MAIL_OUTBOX_DIR) : join(dataDir, "outbox"),
      from: env.MAIL_FROM || "Tessera example <no-reply@localhost>",
    },
    // Browsers keep Secure cookies off plain HTTP, except on localhost: without TLS
    // anywhere else, a Secure cookie would never come back.
    cookieSecure: !(protocol === "http:" && LOOPBACK.has(hostname)),
    rateLimit: parseRateLimit(env.RATE_LIMIT),
    trustedProxies: (env.TRUSTED_PROXIES ?? "")
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean),
    accessTokenLifetimeSeconds: parseAccessTokenLifetime(env.ACCESS_TOKEN_LIFETIME_SECONDS),
    oauth: parseOAuth(env),
  };
}

/**
 * Route names a provider may not take: `/auth/{name}` of a backend (its `/login` is there)
 * and the associate routes' `/auth/associate`.
 */
const RESERVED_PROVIDER_NAMES = new Set([
  "cookie",
  "jwt",
  "db",
  "refresh",
  "refresh-cookie",
  "redis",
  "associate",
]);

/** Labels of well-known providers; any other name is capitalized ("my-idp" → "My Idp"). */
const KNOWN_LABELS: Record<string, string> = {
  google: "Google",
  microsoft: "Microsoft",
  github: "GitHub",
  gitlab: "GitLab",
  okta: "Okta",
  auth0: "Auth0",
  keycloak: "Keycloak",
};

const OAUTH_VARIABLE = /^OAUTH_([A-Z0-9_]+?)_(ISSUER|CLIENT_ID|CLIENT_SECRET)$/;

function parseOAuth(env: NodeJS.ProcessEnv): OAuthProviderConfig[] {
  // Every OAUTH_<NAME>_<PART> that is set, grouped by name: a part set alone is a mistake.
  const parts = new Map<string, { ISSUER?: string; CLIENT_ID?: string; CLIENT_SECRET?: string }>();
  for (const [key, value] of Object.entries(env)) {
    const match = OAUTH_VARIABLE.exec(key);
    if (!match?.[1] || !match[2] || !value) continue;
    const entry = parts.get(match[1]) ?? {};
    entry[match[2] as "ISSUER"] = value;
    parts.set(match[1], entry);
  }
  const providers: OAuthProviderConfig[] = [];
  for (const [upper, part] of [...parts].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const prefix = `OAUTH_${upper}`;
    const missing = (["ISSUER", "CLIENT_ID", "CLIENT_SECRET"] as const)
      .filter((p) => !part[p] && !(upper === "GITHUB" && p === "ISSUER"))
      .map((p) => `${prefix}_${p}`);
    if (missing.length > 0) {
      throw new ConfigError(
        `sign-in provider ${upper.toLowerCase()}: set ${missing.join(" and ")} too, or unset ${prefix}_*`,
      );
    }
    const clientId = part.CLIENT_ID as string;
    const clientSecret = part.CLIENT_SECRET as string;
    if (upper === "GITHUB") {
      if (part.ISSUER) {
        throw new ConfigError(
          "OAUTH_GITHUB_ISSUER: GitHub is not an OpenID Connect provider; set only OAUTH_GITHUB_CLIENT_ID and OAUTH_GITHUB_CLIENT_SECRET",
        );
      }
      providers.push({ kind: "github", name: "github", label: "GitHub", clientId, clientSecret });
      continue;
    }
    const name = upper.toLowerCase().replaceAll("_", "-");
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name) || name.length > 50) {
      throw new ConfigError(`${prefix}_*: the provider name must be letters, digits and _`);
    }
    if (RESERVED_PROVIDER_NAMES.has(name)) {
      throw new ConfigError(
        `${prefix}_*: "${name}" is taken by the app's own /auth/${name} routes; name the provider otherwise`,
      );
    }
    const issuer = parseIssuer(`${prefix}_ISSUER`, part.ISSUER as string);
    providers.push({
      kind: "oidc",
      name,
      label: KNOWN_LABELS[name] ?? labelOf(name),
      // As written: discovery checks that the provider names itself exactly so.
      issuer: part.ISSUER as string,
      clientId,
      clientSecret,
      insecure: issuer.protocol === "http:",
    });
  }
  return providers;
}

const labelOf = (name: string) =>
  name
    .split("-")
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(" ");

/** An issuer URL: https, or http on this machine only (tokens would travel in clear). */
function parseIssuer(variable: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(
      `${variable} must be the issuer's URL, such as https://accounts.google.com`,
    );
  }
  if (url.protocol === "https:") return url;
  if (url.protocol === "http:" && LOOPBACK.has(url.hostname)) return url;
  throw new ConfigError(
    `${variable} must be an https:// URL (http:// only on localhost or 127.0.0.1), not ${value}`,
  );
}

/** The longest access-token lifetime: the refresh token's idle lifetime (a day). */
export const MAX_ACCESS_TOKEN_LIFETIME_SECONDS = 86_400;

function parseAccessTokenLifetime(value: string | undefined): number {
  if (value === undefined || value === "") return 900;
  const seconds = Number(value);
  // Digits only: "1e3", "0x10" or " 60" are typos more often than intent.
  if (!/^[0-9]+$/.test(value) || seconds < 1 || seconds > MAX_ACCESS_TOKEN_LIFETIME_SECONDS) {
    throw new ConfigError(
      `ACCESS_TOKEN_LIFETIME_SECONDS must be a whole number of seconds from 1 to ${MAX_ACCESS_TOKEN_LIFETIME_SECONDS}, not "${value}"`,
    );
  }
  return seconds;
}

function parseRateLimit(value: string | undefined): boolean {
  if (value === undefined || value === "" || value === "on") return true;
  if (value === "off") return false;
  throw new ConfigError(`RATE_LIMIT must be "on" or "off", not "${value}"`);
}

function parsePort(value: string | undefined): number {
  if (value === undefined || value === "") return 8000;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`PORT must be a port number, not "${value}"`);
  }
  return port;
}

function parseAppUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`APP_URL must be an absolute URL such as https://app.example.com`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`APP_URL must be http: or https:, not ${url.protocol}`);
  }
  return url.href.replace(/\/+$/, "");
}

function parseDatabase(env: NodeJS.ProcessEnv, dataDir: string): DatabaseConfig {
  const sql = env.DATABASE_URL || undefined;
  const mongo = env.MONGODB_URL || undefined;
  if (sql && mongo) {
    throw new ConfigError("set DATABASE_URL or MONGODB_URL, not both");
  }
  if (mongo) {
    if (!/^mongodb(\+srv)?:\/\//.test(mongo)) {
      throw new ConfigError("MONGODB_URL must start with mongodb:// or mongodb+srv://");
    }
    // The database is the URL's path, as the driver reads it: mongodb://host/app.
    const dbName = decodeURIComponent(new URL(mongo).pathname.slice(1)) || "tessera";
    return { kind: "mongodb", url: mongo, dbName };
  }
  if (sql) {
    if (!/^postgres(ql)?:\/\//.test(sql)) {
      throw new ConfigError("DATABASE_URL must be a postgres:// URL (unset it for SQLite)");
    }
    return { kind: "postgresql", url: sql };
  }
  return { kind: "sqlite", file: join(dataDir, "tessera.sqlite") };
}

function parseAdmin(env: NodeJS.ProcessEnv): Config["admin"] {
  const email = env.TESSERA_ADMIN_EMAIL || undefined;
  const password = env.TESSERA_ADMIN_PASSWORD || undefined;
  if (!email && !password) return undefined;
  if (!email || !password) {
    throw new ConfigError("set both TESSERA_ADMIN_EMAIL and TESSERA_ADMIN_PASSWORD, or neither");
  }
  return { email, password };
}
