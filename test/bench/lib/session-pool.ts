// The koa-session peer's token pool: its signed cookies can only be made by its own server,
// so each seeded user logs in once through it and the pool holds the `Cookie:` lines.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ServerEnvironment, startServer } from "./server-process.ts";
import { VARIANTS, type Variant } from "./variants.ts";

/** Writes `${dir}/session.txt` (one `Cookie:` line per user id) and returns its path. */
export async function seedSessions(
  env: ServerEnvironment,
  ids: string[],
  dir: string,
): Promise<string> {
  const server = await startServer(
    VARIANTS.find((v) => v.name === "koa-session-redis") as Variant,
    env,
  );
  try {
    const lines: string[] = [];
    for (const id of ids) {
      const res = await fetch(`http://127.0.0.1:${server.port}/login?id=${id}`, { method: "POST" });
      const cookies = res.headers.getSetCookie().map((c) => c.split(";")[0]);
      if (res.status !== 204 || cookies.length < 2)
        throw new Error(`koa-session login: ${res.status}`);
      lines.push(`Cookie: ${cookies.join("; ")}`);
    }
    const file = join(dir, "session.txt");
    writeFileSync(file, `${lines.join("\n")}\n`);
    return file;
  } finally {
    await server.stop();
  }
}

/** The user ids the JWT pool's tokens are for (their `sub`), in pool order. */
export function jwtPoolUserIds(jwtPool: string): string[] {
  return readLines(jwtPool).map((l) => {
    const payload = l.split(".")[1] as string;
    return (JSON.parse(Buffer.from(payload, "base64url").toString()) as { sub: string }).sub;
  });
}

function readLines(file: string): string[] {
  return readFileSync(file, "utf8").trim().split("\n");
}
