// What the orchestrator and every benchmark server agree on. The servers get the rest
// (database URLs, file paths) through environment variables set by the orchestrator.

/** HS256 secret of every JWT variant (Tessera, koa-jwt, passport-jwt, FastAPI Users). */
export const JWT_SECRET = "bench-secret-0123456789abcdef-0123456789abcdef";
/** Tags and derives the refresh tokens of RefreshTokenStrategy (its access tokens use JWT_SECRET). */
export const REFRESH_SECRET = "bench-refresh-secret-0123456789abcdef-0123456";
/** The secret for Tessera's verify/reset tokens (unused on the benchmarked path). */
export const MANAGER_SECRET = "bench-manager-secret-0123456789abcdef-012345";
/** Lifetime of the seeded sessions: long enough that no renewal happens during a run. */
export const SESSION_LIFETIME_SECONDS = 24 * 3600;
/** The password of every seeded user (the login benchmark logs in with it). */
export const PASSWORD = "bench-password-1234";
/** Cookie signing key of the koa-session peer. */
export const SESSION_KEYS = ["bench-cookie-key-0123456789abcdef"];

/** Environment a benchmark server reads. */
export interface ServerEnv {
  PORT: string;
  POSTGRES_URL: string;
  REDIS_URL: string;
  MONGODB_URL: string;
  SQLITE_FILE: string;
}

export function env(name: keyof ServerEnv): string {
  const value = process.env[name];
  if (!value) throw new Error(`bench server: ${name} is not set`);
  return value;
}
