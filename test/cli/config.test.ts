// `tessera --config`: an app's own adapters through defineConfig (integer ids, other
// tables, its own password rule), and the example app's tessera.config.ts, after which the
// example starts with no TESSERA_ADMIN_* and its superuser logs in.
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../examples/koa-app/src/app.js";
import { loadConfig } from "../../examples/koa-app/src/config.js";
import exampleConfig from "../../examples/koa-app/tessera.config.js";
import type { TesseraCliConfig } from "../../packages/cli/src/index.js";
import { tessera } from "./support.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tessera-cli-config-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PASSWORD = "correct horse battery staple";

describe("tessera --config with an app's own user entity", () => {
  const config = join("test", "cli", "fixtures", "integer-ids.config.ts");
  const env = () => ({ MEMBERS_DB: join(dir, "members.sqlite") });
  const rows = (sql: string) =>
    new DatabaseSync(env().MEMBERS_DB, { readOnly: true }).prepare(sql).all();

  it("migrate makes the app's tables, not Tessera's defaults", async () => {
    const run = await tessera(["--config", config, "migrate"], { env: env() });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^applied \d+ \(members in .*members\.sqlite\):\n/);
    expect(
      rows(
        "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name",
      ),
    ).toEqual([{ name: "member" }, { name: "member_token" }]);
    const again = await tessera(["-c", config, "migrate"], { env: env() });
    expect(again.stdout).toMatch(/nothing to do/);
  });

  it("create-superuser applies the app's own password rule and writes its user row", async () => {
    const short = await tessera(
      ["--config", config, "users", "create-superuser", "--email", "root@example.com"],
      { env: env(), input: "nineteen characters" },
    );
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/^tessera: password refused: .*20/);
    const ok = await tessera(
      ["--config", config, "--json", "users", "create-superuser", "--email", "root@example.com"],
      { env: env(), input: PASSWORD },
    );
    expect(ok.stderr).toBe("");
    expect(JSON.parse(ok.stdout)).toEqual({ created: { id: "1", email: "root@example.com" } });
    expect(rows("select id, email, is_superuser, display_name from member")).toEqual([
      { id: 1, email: "root@example.com", is_superuser: 1, display_name: null },
    ]);
  });

  it("deactivate and purge work on the app's tables", async () => {
    const deactivated = await tessera(
      ["--config", config, "users", "deactivate", "root@example.com"],
      { env: env() },
    );
    expect(deactivated.stdout).toBe("deactivated root@example.com; sessions ended in database\n");
    expect(rows("select is_active from member")).toEqual([{ is_active: 0 }]);
    const purged = await tessera(["--config", config, "sessions", "purge-expired"], { env: env() });
    expect(purged.stdout).toBe("database: deleted 0 expired sessions\n");
  });

  it("a config whose connect() throws is a usage error (2) naming it", async () => {
    const run = await tessera(["--config", config, "migrate"], { env: {} });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^tessera: --config test\/cli\/fixtures\/integer-ids\.config\.ts: /);
  });
});

describe("the example app's tessera.config.ts", () => {
  it("is a TesseraCliConfig", () => {
    const typed: TesseraCliConfig<{ id: string } & import("@tessera/core").UserProtocol<string>> =
      exampleConfig;
    expect(typeof typed.connect).toBe("function");
  });

  it("makes the superuser in DATA_DIR's SQLite file under the app's password rules; the app then starts without TESSERA_ADMIN_* and the superuser logs in", async () => {
    const dataDir = join(dir, "example-data");
    const config = join("examples", "koa-app", "tessera.config.ts");
    const env = { DATA_DIR: dataDir };
    expect((await tessera(["--config", config, "migrate"], { env })).code).toBe(0);
    const common = await tessera(
      ["--config", config, "users", "create-superuser", "--email", "admin@example.com"],
      { env, input: "password1" },
    );
    expect(common.code).toBe(1);
    expect(common.stderr).toMatch(/too common/);
    const created = await tessera(
      ["--config", config, "users", "create-superuser", "--email", "admin@example.com"],
      { env, input: PASSWORD },
    );
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);

    const quiet = { info() {}, warn() {}, error() {} };
    const example = await createApp(loadConfig({ DATA_DIR: dataDir, PORT: "0" }), quiet);
    const server: Server = example.app.listen(0, "127.0.0.1");
    try {
      await new Promise((resolve) => server.once("listening", resolve));
      const { port } = server.address() as { port: number };
      const base = `http://127.0.0.1:${port}`;
      const login = await fetch(`${base}/auth/db/login`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ username: "admin@example.com", password: PASSWORD }),
      });
      expect(login.status).toBe(200);
      const { access_token: token } = (await login.json()) as { access_token: string };
      const me = await fetch(`${base}/users/me`, { headers: { authorization: `Bearer ${token}` } });
      const user = (await me.json()) as { id: string; is_superuser: boolean; is_verified: boolean };
      expect(user).toMatchObject({ is_superuser: true, is_verified: true });
      // A superuser-only route.
      const byId = await fetch(`${base}/users/${user.id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(byId.status).toBe(200);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await example.close();
    }
  });
});
