import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../harness/net.js";
import { request } from "../support/client.js";

// The getting-started page promises a complete app; this runs the page's own code block
// (type-checked, then executed by Node against the built packages), so the doc cannot rot.
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const outDir = join(root, "test", "output", "docs");
const file = join(outDir, "getting-started-app.ts");

function docCode(): string {
  const md = readFileSync(join(root, "docs", "getting-started.md"), "utf8");
  const match = /```ts\n([\s\S]*?)```/.exec(md);
  if (!match?.[1]) throw new Error("no ts block in docs/getting-started.md");
  return match[1];
}

let child: ChildProcess;
let url: string;

beforeAll(async () => {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(file, docCode());
  writeFileSync(join(outDir, "package.json"), '{ "type": "module" }\n');
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, [file], {
    env: { ...process.env, PORT: String(port) },
    stdio: "pipe",
  });
  let output = "";
  child.stderr?.on("data", (d) => {
    output += d;
  });
  for (let i = 0; i < 100; i++) {
    try {
      await request(url);
      return;
    } catch {
      if (child.exitCode !== null) throw new Error(`the getting-started app exited: ${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`the getting-started app did not listen: ${output}`);
});
afterAll(() => {
  child?.kill();
});

describe("docs/getting-started.md", () => {
  it("its app is under 40 lines and type-checks under strict TypeScript", async () => {
    expect(docCode().trimEnd().split("\n").length).toBeLessThan(40);
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
    const args = [
      tsc,
      "--ignoreConfig",
      "--noEmit",
      "--strict",
      "--module",
      "nodenext",
      "--target",
      "es2023",
      "--skipLibCheck",
      file,
    ];
    await promisify(execFile)(process.execPath, args, { cwd: outDir });
  });

  it("registers, logs in by Bearer and by cookie, and reaches a protected route", async () => {
    const credentials = { username: "ada@example.com", password: "correct horse battery" };
    const reg = await request(`${url}/auth/register`, {
      json: { email: credentials.username, password: credentials.password },
    });
    expect(reg.status).toBe(201);
    const login = await request(`${url}/auth/jwt/login`, { form: credentials });
    const token = (login.body as { access_token: string }).access_token;
    const hello = await request(`${url}/hello`, { headers: { authorization: `Bearer ${token}` } });
    expect(hello.body).toEqual({ hello: "ada@example.com" });
    const cookieLogin = await request(`${url}/auth/cookie/login`, { form: credentials });
    const cookie = (cookieLogin.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const me = await request(`${url}/users/me`, { headers: { cookie } });
    expect(me.body).toMatchObject({ email: "ada@example.com" });
  });
});
