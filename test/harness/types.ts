// Shapes shared by the harness (vitest main process) and the test workers. Everything here
// crosses the process boundary through vitest's `provide`/`inject`, so it must stay plain JSON.

/** A server process the harness started. */
export type ProcessName =
  | "postgres"
  | "redis"
  | "redis-cluster-0"
  | "redis-cluster-1"
  | "redis-cluster-2"
  | "mongo";

/** The services a test may stop and restart in place (control.ts). */
export type ControlledService = "postgres" | "redis" | "mongo";

/**
 * Everything needed to (re)start one server exactly as the harness did: same binary, flags,
 * port and data directory. control.ts replays it from a worker process.
 */
export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  /** Extra environment on top of the parent's. */
  env: Record<string, string>;
  /** Unprivileged user to run as (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
  host: string;
  port: number;
  dataDir: string;
  logFile: string;
  pidFile: string;
  /** How to tell the server is serving: a real protocol round trip, or just an open port. */
  ready: "postgres" | "redis" | "tcp";
  /** Clean shutdown signal (postgres: SIGINT = "fast" shutdown, no waiting for clients). */
  stopSignal: NodeJS.Signals;
  /** Crash-like stop (postgres: SIGQUIT = immediate; SIGKILL would orphan its backends). */
  crashSignal: NodeJS.Signals;
}

export interface PostgresInfo {
  url: string;
  host: string;
  port: number;
  database: string;
  user: string;
  /** True when POSTGRES_URL pointed at a server the harness does not own. */
  external: boolean;
}

export interface RedisInfo {
  url: string;
  host: string;
  port: number;
  external: boolean;
}

export interface RedisClusterInfo {
  urls: string[];
  nodes: { host: string; port: number }[];
  external: boolean;
}

export interface MongoInfo {
  url: string;
  host: string;
  port: number;
  /** Which server speaks the MongoDB protocol: FerretDB lacks some features (no transactions). */
  kind: "mongod" | "ferretdb" | "external";
}

/** What `inject("services")` returns inside a test. */
export interface ServicesInfo {
  /** test/.services/run-…: this run's temporary directory. */
  runDir: string;
  postgres: PostgresInfo;
  redis: RedisInfo;
  redisCluster: RedisClusterInfo;
  mongo: MongoInfo;
  /** Specs of the processes the harness started (absent for external services). */
  processes: Partial<Record<ProcessName, ProcessSpec>>;
  /** How long starting everything took, for the record. */
  startupMs: number;
  /** Milliseconds from the start until each started service was ready. */
  timings: Record<string, number>;
}

/** An account of the test OIDC provider (oidc-provider.ts). */
export interface OidcTestAccount {
  /** The OIDC `sub`. */
  sub: string;
  /** The id its GitHub-style API reports. */
  githubId: number;
  email: string | null;
  emailVerified: boolean;
}

/** The suite's OpenID Connect provider (oidc-provider, in the vitest main process). */
export interface OidcProviderInfo {
  /** http://127.0.0.1:<port>: discovery at `${issuer}/.well-known/openid-configuration`. */
  issuer: string;
  port: number;
  /** The confidential test client (client_secret_basic, PKCE required). */
  clientId: string;
  clientSecret: string;
  /** Its GitHub-style (non-OIDC) surface: endpoints for `github({ endpoints })`. */
  github: { authorization: string; token: string; api: string };
  /** Log in with these usernames (any password). */
  accounts: Record<string, OidcTestAccount>;
}

declare module "vitest" {
  export interface ProvidedContext {
    services: ServicesInfo;
    oidc: OidcProviderInfo;
  }
}
