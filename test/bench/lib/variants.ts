// Every variant of the `GET /me` benchmark: which server runs it and which token pool the
// load generator draws from.

export interface Variant {
  /** Stable id, also the server module's name under servers/. */
  name: string;
  /** What it is, for the tables. */
  label: string;
  /** Its kind, for the chart: "reference" is a hand-written ceiling that skips checks. */
  group: "ceiling" | "tessera" | "peer" | "reference" | "fastapi";
  runtime: "node" | "python";
  /** Module under servers/ (node). */
  server: string;
  /** Token pool (see seed.ts). */
  pool: string;
  env?: Record<string, string>;
  /** A reference that checks nothing (forged credentials pass): not asked to refuse one. */
  unverified?: true;
  /** Set on a variant run at another commit (`--compare`): that commit, abbreviated. */
  rev?: string;
  /** With `rev`: the name of the same variant in this checkout. */
  base?: string;
}

const node = (name: string, label: string, group: Variant["group"], pool: string): Variant => ({
  name,
  label,
  group,
  runtime: "node",
  server: name,
  pool,
});

const fastapi = (mode: string, label: string, pool: string): Variant => ({
  name: `fastapi-users-${mode}`,
  label,
  group: "fastapi",
  runtime: "python",
  server: "",
  pool,
  env: { FASTAPI_MODE: mode },
});

export const VARIANTS: Variant[] = [
  node("koa", "bare Koa + @koa/router (ceiling)", "ceiling", "jwt"),
  node("tessera-jwt-memory", "Tessera JWT, user in process (verify path)", "tessera", "jwt"),
  node(
    "tessera-refresh-memory",
    "Tessera refresh-token sessions, access token (sid, no store read), user in process",
    "tessera",
    "refresh",
  ),
  node("tessera-jwt-pg", "Tessera JWT, user from PostgreSQL", "tessera", "jwt"),
  node("tessera-jwt-sqlite", "Tessera JWT, user from SQLite", "tessera", "jwt"),
  node("tessera-db-pg", "Tessera database, PostgreSQL (db-mikroorm)", "tessera", "db"),
  node(
    "tessera-db-pg-session",
    "Tessera database, PostgreSQL, reading ctx.state.session (handle, userId, claims)",
    "tessera",
    "db",
  ),
  node(
    "tessera-db-pg-session-data",
    "Tessera database, PostgreSQL, ctx.state.session and getData() (one more round trip)",
    "tessera",
    "db",
  ),
  node("tessera-db-sqlite", "Tessera database, SQLite (db-mikroorm)", "tessera", "db"),
  node("tessera-db-mongo", "Tessera database, MongoDB protocol (db-mongo)", "tessera", "mongo"),
  node("tessera-redis-snapshot", "Tessera Redis, user snapshot", "tessera", "redis"),
  node(
    "tessera-redis-snapshot-session",
    "Tessera Redis, user snapshot, reading ctx.state.session (handle, userId, claims)",
    "tessera",
    "redis",
  ),
  node("tessera-redis-pg", "Tessera Redis, user from PostgreSQL", "tessera", "redis"),
  node("koa-jwt", "koa-jwt, KeyObject secret (verify only)", "peer", "jwt"),
  node("koa-jwt-string", "koa-jwt, string secret as its README (verify only)", "peer", "jwt"),
  node("koa-passport-jwt", "koa-passport + passport-jwt, user from PostgreSQL", "peer", "jwt"),
  node("koa-session-redis", "koa-session + koa-redis (no user read)", "peer", "session"),
  {
    ...node(
      "jwt-decode-only",
      "JWT payload decoded, NO verification, user from a Map (verify path's ceiling)",
      "reference",
      "jwt",
    ),
    unverified: true,
  },
  node(
    "redis-hmget",
    "raw ioredis: one HMGET of the session, no checks (Redis strategy's ceiling)",
    "reference",
    "redis",
  ),
  node("pg-join", "raw pg: token JOIN user (one query)", "peer", "db"),
  node("pg-two-queries", "raw pg: token, then user (FastAPI Users' shape)", "peer", "db"),
  node(
    "mongo-two-finds",
    "raw mongodb: token, then user, by _id (server's ceiling)",
    "peer",
    "mongo",
  ),
  fastapi("jwt", "FastAPI Users JWT (uvicorn)", "fastapi-jwt"),
  fastapi("redis", "FastAPI Users Redis (uvicorn)", "fastapi-redis"),
  fastapi("database", "FastAPI Users database (uvicorn)", "fastapi-db"),
];
