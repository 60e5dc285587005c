import { resolve } from "node:path";
import { CliError, ExitCode } from "./exit-codes.js";

/** The database a connection string names. */
export type DatabaseTarget =
  | { kind: "postgresql"; url: string }
  | { kind: "sqlite"; file: string }
  | { kind: "mongodb"; url: string; dbName: string };

/** The connection variables the CLI reads (`DATABASE_URL`, `MONGODB_URL`). */
export interface DatabaseVariables {
  DATABASE_URL?: string | undefined;
  MONGODB_URL?: string | undefined;
}

/**
 * The database of `DATABASE_URL` or `MONGODB_URL`:
 *
 * - `postgres://…` / `postgresql://…`: PostgreSQL;
 * - `sqlite:PATH`, `sqlite://PATH` (`sqlite:///abs/file.sqlite` for an absolute path), or a
 *   bare file path (`./data/tessera.sqlite`): SQLite, relative paths from `cwd`;
 * - `mongodb://…` / `mongodb+srv://…` (in either variable): MongoDB, the URL's path names
 *   the database (`tessera` when it has none), as in the example app.
 *
 * Throws a usage error ({@link ExitCode.USAGE}) when neither is set, both are, or the
 * scheme is unknown.
 */
export function parseDatabaseTarget(env: DatabaseVariables, cwd = process.cwd()): DatabaseTarget {
  const sql = env.DATABASE_URL || undefined;
  const mongo = env.MONGODB_URL || undefined;
  if (sql && mongo) throw usage("set DATABASE_URL or MONGODB_URL, not both");
  if (mongo) {
    if (!isMongoUrl(mongo)) throw usage("MONGODB_URL must start with mongodb:// or mongodb+srv://");
    return mongoTarget(mongo);
  }
  if (!sql) {
    throw usage(
      "no database: set DATABASE_URL (postgres://…, sqlite:FILE) or MONGODB_URL, or pass --config",
    );
  }
  if (isMongoUrl(sql)) return mongoTarget(sql);
  if (/^postgres(ql)?:\/\//i.test(sql)) {
    try {
      new URL(sql);
    } catch {
      throw usage("DATABASE_URL is not a valid postgres:// URL");
    }
    return { kind: "postgresql", url: sql };
  }
  let file: string;
  if (/^sqlite:/i.test(sql)) {
    file = sql.slice("sqlite:".length);
    if (file.startsWith("//")) file = file.slice(2);
  } else if (/^[a-z][a-z0-9+.-]+:/i.test(sql)) {
    // A scheme (mysql:, file:, http:): a one-letter one is a Windows drive, hence the `+`.
    throw usage(
      `DATABASE_URL: unsupported scheme "${sql.slice(0, sql.indexOf(":"))}:" (postgres://…, sqlite:FILE or mongodb://…)`,
    );
  } else {
    file = sql;
  }
  file = decodeURIComponent(file);
  if (file === "" || file === ":memory:") {
    throw usage("DATABASE_URL: a SQLite database needs a file (sqlite:./data/tessera.sqlite)");
  }
  return { kind: "sqlite", file: resolve(cwd, file) };
}

/** A URL with its password replaced by `***`, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.href;
  } catch {
    return url;
  }
}

/** Where a target points, for messages: no password. */
export function describeTarget(target: DatabaseTarget): string {
  return target.kind === "sqlite"
    ? `SQLite ${target.file}`
    : `${target.kind === "postgresql" ? "PostgreSQL" : "MongoDB"} ${redactUrl(target.url)}`;
}

const isMongoUrl = (url: string) => /^mongodb(\+srv)?:\/\//i.test(url);

function mongoTarget(url: string): DatabaseTarget {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    // mongodb://a,b,c/app (a replica set's seed list) is no WHATWG URL: read the path by hand.
    pathname = /^mongodb(?:\+srv)?:\/\/[^/?]*(\/[^?]*)?/i.exec(url)?.[1] ?? "";
  }
  const dbName = decodeURIComponent(pathname.slice(1)) || "tessera";
  return { kind: "mongodb", url, dbName };
}

const usage = (message: string) => new CliError(ExitCode.USAGE, message);
