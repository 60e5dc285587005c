// Exit code 3: a database, MongoDB or Redis that cannot be reached is reported at once, in
// one line naming it (never its password), and distinguished from a failed operation (1).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPort, tessera } from "./support.js";

let port: number;
let dir: string;
beforeAll(async () => {
  port = await closedPort();
  dir = mkdtempSync(join(tmpdir(), "tessera-cli-connect-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("tessera: cannot connect (exit 3)", () => {
  it("PostgreSQL on a closed port, the password kept out of the message", async () => {
    const url = `postgres://app:hunter2@127.0.0.1:${port}/app`;
    const run = await tessera(["sessions", "revoke", "--user", "a@example.com"], {
      env: { DATABASE_URL: url },
    });
    console.log(`closed PostgreSQL port: exit ${run.code} in ${Math.round(run.ms)} ms`);
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(
      `tessera: cannot connect to PostgreSQL postgres://app:***@127.0.0.1:${port}/app: connect ECONNREFUSED 127.0.0.1:${port}\n`,
    );
    expect(run.stdout).toBe("");
    // Generous: the point is "not the drivers' 30-second defaults".
    expect(run.ms).toBeLessThan(20_000);
  });

  it("MongoDB on a closed port", async () => {
    const run = await tessera(["migrate"], {
      env: { MONGODB_URL: `mongodb://127.0.0.1:${port}/app` },
    });
    console.log(`closed MongoDB port: exit ${run.code} in ${Math.round(run.ms)} ms`);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      new RegExp(`^tessera: cannot connect to MongoDB mongodb://127\\.0\\.0\\.1:${port}/app: `),
    );
    expect(run.ms).toBeLessThan(20_000);
  });

  it("Redis on a closed port, the database being fine", async () => {
    const env = { DATABASE_URL: `sqlite:${join(dir, "app.sqlite")}` };
    expect((await tessera(["migrate"], { env })).code).toBe(0);
    const run = await tessera(["sessions", "purge-expired"], {
      env: { ...env, REDIS_URL: `redis://127.0.0.1:${port}` },
    });
    console.log(`closed Redis port: exit ${run.code} in ${Math.round(run.ms)} ms`);
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(
      `tessera: cannot connect to Redis redis://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`,
    );
    expect(run.ms).toBeLessThan(20_000);
  });

  it("no database named at all is a usage error (2), not 3", async () => {
    const run = await tessera(["users", "deactivate", "a@example.com"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^tessera: no database: set DATABASE_URL/);
  });
});
