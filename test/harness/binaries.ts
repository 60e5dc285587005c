// Locating server binaries. ensure-binaries.sh installs them before vitest starts; this only
// finds them, and fails with a message naming what to install (nothing is skipped silently).
import { accessSync, constants, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const FERRETDB_PATH = join(repoRoot, ".tools", "bin", "ferretdb");

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/**
 * Directory holding initdb + postgres. Debian installs them off PATH in
 * /usr/lib/postgresql/<major>/bin (newest major first); otherwise take them from PATH.
 */
export function postgresBinDir(): string | undefined {
  let majors: string[] = [];
  try {
    majors = readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a));
  } catch {
    // Not Debian's layout.
  }
  for (const m of majors) {
    const dir = join("/usr/lib/postgresql", m, "bin");
    if (executable(join(dir, "initdb")) && executable(join(dir, "postgres"))) return dir;
  }
  const initdb = which("initdb");
  if (initdb && which("postgres")) return join(initdb, "..");
  return undefined;
}

export type MongoServer = { kind: "mongod" | "ferretdb"; path: string };

/** mongod when installed, else the FerretDB that ensure-binaries.sh built. */
export function mongoServer(): MongoServer | undefined {
  const mongod = which("mongod");
  if (mongod) return { kind: "mongod", path: mongod };
  if (executable(FERRETDB_PATH)) return { kind: "ferretdb", path: FERRETDB_PATH };
  return undefined;
}

export function missingBinaryError(what: string[]): Error {
  return new Error(
    `tessera harness: cannot start the test services, missing: ${what.join("; ")}.\n` +
      "Run `pnpm run services:ensure` (sh test/harness/ensure-binaries.sh; as root it installs " +
      "them with apt-get and builds FerretDB with go), or point the suite at your own servers " +
      "with POSTGRES_URL, REDIS_URL, REDIS_CLUSTER_URLS, MONGODB_URL (see docs/testing.md).",
  );
}
