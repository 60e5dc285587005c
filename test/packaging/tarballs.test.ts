// The packages as a user gets them: every package under packages/ is packed with
// `pnpm pack` from a clean copy of the workspace (no dist/ anywhere, so `prepack` must build
// it), the tarballs are installed with plain npm into a scratch app outside the workspace
// (no workspace links, no "tessera-source" condition), and that app (the getting-started
// page's) is type-checked with tsc, started with Node and driven over HTTP. publint and
// @arethetypeswrong/cli check every tarball's manifest and types (zero errors).
import { type ChildProcess, spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { basename, delimiter, dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../harness/net.js";
import { request } from "../support/client.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const started = performance.now();

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  bin?: string | Record<string, string>;
  exports?: unknown;
  files?: string[];
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  dependencies?: Record<string, string>;
}

interface Packed {
  name: string;
  version: string;
  filename: string;
  files: { path: string }[];
}

interface Result {
  code: number | null;
  /** stdout and stderr, interleaved. */
  output: string;
  stdout: string;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, "utf8")) as T;

// Every package under packages/, read from the directory, so a new one is included.
const packageDirs = readdirSync(join(root, "packages"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => join(root, "packages", d.name))
  .filter((dir) => {
    try {
      return !readJson<Manifest>(join(dir, "package.json")).private;
    } catch {
      return false;
    }
  });
const sourceManifests = new Map(
  packageDirs.map((dir) => {
    const manifest = readJson<Manifest>(join(dir, "package.json"));
    return [manifest.name, manifest] as const;
  }),
);

// Children get the Node running this test first on PATH, and none of the npm_* / pnpm_*
// variables a `pnpm run` parent sets (they would leak its settings into the scratch npm).
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm|pnpm)_/i.test(key)) env[key] = value;
  }
  env.PATH = [
    dirname(process.execPath),
    join(root, "tools", "toolchain", "node_modules", ".bin"),
    process.env.PATH ?? "",
  ].join(delimiter);
  return { ...env, NO_COLOR: "1", FORCE_COLOR: "0", ...extra };
}

function run(command: string, args: string[], cwd: string, env = childEnv()): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let stdout = "";
    child.stdout.on("data", (d) => {
      output += d;
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      output += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output, stdout }));
  });
}

async function mustRun(command: string, args: string[], cwd: string): Promise<Result> {
  const t0 = performance.now();
  const result = await run(command, args, cwd);
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  if (result.code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} (in ${cwd}) exited ${result.code}:\n${result.output}`,
    );
  }
  console.log(`[packaging] ${command} ${args.join(" ")}: ${seconds} s`);
  return result;
}

// The projects pnpm-workspace.yaml lists besides packages/* ("examples/*", "test", ...).
function otherWorkspaceProjects(): string[] {
  const yaml = readFileSync(join(root, "pnpm-workspace.yaml"), "utf8");
  const block = yaml.split(/^packages:\s*$/m)[1]?.split(/^\S/m)[0] ?? "";
  const patterns = [...block.matchAll(/^\s+-\s+["']?([^"'\s]+)/gm)].map((m) => m[1] ?? "");
  return patterns
    .filter((pattern) => pattern !== "packages/*")
    .flatMap((pattern) =>
      pattern.endsWith("/*")
        ? readdirSync(join(root, pattern.slice(0, -2))).map((d) => `${pattern.slice(0, -2)}/${d}`)
        : [pattern],
    )
    .filter((project) => existsSync(join(root, project, "package.json")));
}

// The getting-started page's app, extracted exactly as test/docs/getting-started.test.ts
// does (its first ```ts block).
function gettingStartedApp(): string {
  const md = readFileSync(join(root, "docs", "getting-started.md"), "utf8");
  const match = /```ts\n([\s\S]*?)```/.exec(md);
  if (!match?.[1]) throw new Error("no ts block in docs/getting-started.md");
  return match[1];
}

// An app's own zod schema, made with the app's zod, passed to @tessera/koa: it validates
// the register body and is converted into the OpenAPI document by koa's zod. Two zod copies
// would break the second (and `instanceof z.ZodType` across them is false).
const schemaCheck = `import { AuthenticationBackend, BearerTransport, UserManager } from "@tessera/core";
import { MemoryUserDatabase } from "@tessera/core/testing";
import { Tessera, userCreateSchema } from "@tessera/koa";
import { JWTStrategy } from "@tessera/strategy-jwt";
import Koa from "koa";
import type { AddressInfo } from "node:net";
import { z } from "zod";

const SECRET = "a-secret-of-at-least-32-bytes-for-the-check";
const jwt = new JWTStrategy({ secret: SECRET, lifetimeSeconds: 60 });
const transport = new BearerTransport({ tokenUrl: "auth/jwt/login" });
const backend = new AuthenticationBackend({ name: "jwt", transport, getStrategy: () => jwt });
const create = userCreateSchema.extend({ nickname: z.string().min(2) });
const tessera = new Tessera({
  backends: [backend],
  getUserManager: () =>
    new UserManager({
      userDb: new MemoryUserDatabase(),
      verificationTokenSecret: \`\${SECRET}:verify\`,
      resetPasswordTokenSecret: \`\${SECRET}:reset\`,
    }),
  schemas: { create },
});
const app = new Koa().use(tessera.registerRouter({ prefix: "/auth" }).routes());
const server = app.listen(0, "127.0.0.1");
await new Promise((resolve) => server.once("listening", resolve));
const url = \`http://127.0.0.1:\${(server.address() as AddressInfo).port}/auth/register\`;
const post = async (body: unknown) => {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
};
const user = { email: "zod@example.com", password: "correct horse battery" };
const withoutNickname = await post(user);
const withNickname = await post({ ...user, nickname: "zed" });
const document = tessera.openapi({ title: "check", version: "1" });
server.close();
console.log(
  JSON.stringify({
    withoutNickname,
    withNickname,
    zodTypeOfKoaSchema: userCreateSchema instanceof z.ZodType,
    schemas: Object.keys(document.components?.schemas ?? {}),
    documentText: JSON.stringify(document).includes("nickname"),
  }),
);
`;

let work: string;
let tarballDir: string;
let appDir: string;
let packed: Packed[] = [];
let child: ChildProcess | undefined;
let appUrl: string;
const durations: Record<string, number> = {};
let lints: Promise<{ name: string; publint: Result; attw: Result }[]>;

// publint and attw on every tarball, two at a time (each attw run is a TypeScript
// program), started as soon as the tarballs exist so they overlap the npm install.
// attw's esm-only profile: the packages are ESM-only, so it leaves out node10 and
// CommonJS require (node16-cjs), which they do not serve by design.
function lintTarballs(): Promise<{ name: string; publint: Result; attw: Result }[]> {
  const bin = (name: string) => join(root, "node_modules", ".bin", name);
  const t0 = performance.now();
  const queue = [...packed];
  const results: { name: string; publint: Result; attw: Result }[] = [];
  const worker = async () => {
    for (let p = queue.shift(); p; p = queue.shift()) {
      const publint = await run(bin("publint"), ["run", "--strict", p.filename], root);
      const attwArgs = [
        p.filename,
        "--profile",
        "esm-only",
        "--format",
        "ascii",
        "--no-color",
        "--no-emoji",
      ];
      const attw = await run(bin("attw"), attwArgs, root);
      results.push({ name: p.name, publint, attw });
    }
  };
  return Promise.all([worker(), worker()]).then(() => {
    lap("publint + attw", t0);
    return results.sort((a, b) => a.name.localeCompare(b.name));
  });
}

function lap(name: string, since: number): void {
  durations[name] = Math.round((performance.now() - since) / 100) / 10;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "tessera-tarballs-"));
  tarballDir = join(work, "tarballs");
  appDir = join(work, "app");
  mkdirSync(tarballDir);
  mkdirSync(appDir);

  // 1. A clean copy of the workspace: sources and manifests, no dist/, no node_modules.
  let t0 = performance.now();
  const copy = join(work, "workspace");
  const skip = new Set(["node_modules", "dist", ".git", ".tools", "output", ".services", ".venv"]);
  const copied = (from: string) => !skip.has(basename(from)) && !from.endsWith(".tsbuildinfo");
  for (const file of [
    "package.json",
    "pnpm-lock.yaml",
    "pnpm-workspace.yaml",
    "tsconfig.base.json",
    "LICENSE",
  ]) {
    cpSync(join(root, file), join(copy, file));
  }
  cpSync(join(root, "packages"), join(copy, "packages"), { recursive: true, filter: copied });
  // The other workspace projects only by their manifests, so the lockfile matches.
  for (const project of otherWorkspaceProjects()) {
    cpSync(join(root, project, "package.json"), join(copy, project, "package.json"));
  }
  await mustRun(
    "pnpm",
    ["install", "--frozen-lockfile", "--prefer-offline", "--ignore-scripts", "--reporter=silent"],
    copy,
  );
  lap("clean copy + pnpm install", t0);

  // 2. `pnpm pack` every package: their prepack builds dist/ from nothing.
  t0 = performance.now();
  const { stdout } = await mustRun(
    "pnpm",
    ["-r", "--filter", "./packages/*", "pack", "--pack-destination", tarballDir, "--json"],
    copy,
  );
  packed = JSON.parse(stdout.slice(stdout.indexOf("["))) as Packed[];
  lap("pnpm pack (prepack builds)", t0);
  lints = lintTarballs();
  lints.catch(() => {}); // awaited by its tests

  // 3. A scratch app with its own package.json: the tarballs, the getting-started app's
  // third-party packages at the ranges the workspace uses, and the peers the packages need.
  t0 = performance.now();
  const koa = sourceManifests.get("@tessera/koa");
  const range = (name: string) => koa?.devDependencies?.[name] ?? koa?.peerDependencies?.[name];
  const dependencies: Record<string, string> = {};
  for (const p of packed)
    dependencies[p.name] = `file:${relative(appDir, p.filename).split(sep).join("/")}`;
  for (const name of ["koa", "@koa/router", "zod", "@types/koa"]) {
    const version = range(name);
    if (!version) throw new Error(`no range for ${name} in @tessera/koa's manifest`);
    dependencies[name] = version;
  }
  dependencies["@types/node"] =
    readJson<Manifest>(join(root, "package.json")).devDependencies?.["@types/node"] ?? "*";
  writeFileSync(
    join(appDir, "package.json"),
    `${JSON.stringify({ name: "tarball-app", private: true, type: "module", dependencies }, null, 2)}\n`,
  );
  await mustRun(
    "npm",
    [
      "install",
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      "--ignore-scripts",
      "--loglevel=error",
    ],
    appDir,
  );
  lap("npm install (tarballs + third-party)", t0);
}, 600_000);

afterAll(() => {
  child?.kill();
  if (work) rmSync(work, { recursive: true, force: true });
  durations.total = Math.round((performance.now() - started) / 100) / 10;
  console.log(`[packaging] durations (s): ${JSON.stringify(durations)}`);
});

describe("the tarballs (pnpm pack from a clean tree)", () => {
  it("every package under packages/ is packed", () => {
    expect(packed.map((p) => p.name).sort()).toEqual([...sourceManifests.keys()].sort());
  });

  it("each ships LICENSE, README.md, dist/ and every file its exports name; no tests, no test-utils", () => {
    for (const p of packed) {
      const paths = new Set(p.files.map((f) => f.path));
      expect(paths, p.name).toContain("LICENSE");
      expect(paths, p.name).toContain("README.md");
      expect(paths, p.name).toContain("package.json");
      const targets =
        JSON.stringify(sourceManifests.get(p.name)?.exports ?? {}).match(/"\.\/dist\/[^"]+"/g) ??
        [];
      for (const target of targets) expect(paths, p.name).toContain(target.slice(3, -1));
      expect(
        [...paths].filter((f) => /\.test\.|test-utils|\.tsbuildinfo/.test(f)),
        p.name,
      ).toEqual([]);
      // A dist file without its source would be a stale build output.
      for (const f of paths) {
        const source = f.match(/^dist\/(.+)\.(?:js|d\.ts)$/)?.[1];
        if (source) expect(paths, `${p.name}: ${f}`).toContain(`src/${source}.ts`);
      }
    }
  });

  it("published manifests: the source exports without tessera-source, no workspace: ranges, no prepack", () => {
    for (const p of packed) {
      const manifest = readJson<Manifest & { scripts?: Record<string, string> }>(
        join(appDir, "node_modules", ...p.name.split("/"), "package.json"),
      );
      const text = JSON.stringify(manifest);
      expect(text, p.name).not.toContain("workspace:");
      expect(text, p.name).not.toContain("tessera-source");
      expect(manifest.scripts?.prepack, p.name).toBeUndefined();
      // publishConfig.exports is the source's exports without the condition: same entries.
      const source = sourceManifests.get(p.name)?.exports;
      const withoutSource = JSON.parse(JSON.stringify(source), (key, value) =>
        key === "tessera-source" ? undefined : value,
      );
      expect(manifest.exports, p.name).toEqual(withoutSource);
      for (const [peer, spec] of Object.entries(manifest.peerDependencies ?? {})) {
        if (peer.startsWith("@tessera/"))
          expect(spec, `${p.name} -> ${peer}`).toBe(`^${p.version}`);
      }
    }
  });

  // npm hoists every package to the app's node_modules, so an undeclared import still
  // resolves there; pnpm's strict node_modules would not. Each bare import in dist/ must
  // name the package itself, a dependency or a peer.
  it("every package imports only what its manifest declares (dependencies, peers)", () => {
    const undeclared: string[] = [];
    for (const p of packed) {
      const dir = join(appDir, "node_modules", ...p.name.split("/"));
      const manifest = readJson<Manifest>(join(dir, "package.json"));
      const declared = new Set([
        p.name,
        ...Object.keys(manifest.dependencies ?? {}),
        ...Object.keys(manifest.peerDependencies ?? {}),
      ]);
      const files = readdirSync(join(dir, "dist"), { recursive: true, encoding: "utf8" });
      for (const file of files.filter((f) => f.endsWith(".js"))) {
        // tsc's output: comments are /* */ blocks or whole // lines.
        const code = readFileSync(join(dir, "dist", file), "utf8")
          .replace(/\/\*[\s\S]*?\*\//g, "")
          .replace(/^\s*\/\/.*$/gm, "");
        const specifiers = code.matchAll(/\b(?:from\s*|import\s*\(\s*|^import\s*)"([^"]+)"/gm);
        for (const [, specifier = ""] of specifiers) {
          if (specifier.startsWith(".") || specifier.startsWith("node:")) continue;
          if (builtinModules.includes(specifier)) continue;
          const parts = specifier.split("/");
          const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? "");
          if (!declared.has(name)) undeclared.push(`${p.name}: dist/${file} imports ${specifier}`);
        }
      }
    }
    expect(undeclared).toEqual([]);
  });

  it("publint --strict: zero errors and warnings in every tarball", {
    timeout: 300_000,
  }, async () => {
    const results = await lints;
    for (const { name, publint } of results)
      console.log(`[publint] ${name}\n${publint.output.trim()}`);
    expect(results.filter((r) => r.publint.code !== 0).map((r) => r.name)).toEqual([]);
  });

  it("@arethetypeswrong/cli --profile esm-only: zero problems in every tarball", {
    timeout: 300_000,
  }, async () => {
    const results = await lints;
    for (const { name, attw } of results) console.log(`[attw] ${name}\n${attw.output.trim()}`);
    expect(results.filter((r) => r.attw.code !== 0).map((r) => r.name)).toEqual([]);
  });
});

describe("a scratch app installing the tarballs with plain npm", () => {
  it("has one zod, shared by the app and @tessera/koa (zod is koa's peer)", async () => {
    const result = await run("npm", ["query", "#zod"], appDir);
    expect(result.code).toBe(0);
    const nodes = JSON.parse(result.stdout) as { location: string; version: string }[];
    console.log(
      `[packaging] zod copies: ${JSON.stringify(nodes.map((n) => `${n.location}@${n.version}`))}`,
    );
    expect(nodes.map((n) => n.location)).toEqual(["node_modules/zod"]);
    const ls = await run("npm", ["ls", "zod"], appDir);
    console.log(`[packaging] npm ls zod\n${ls.output.trim()}`);
    expect(ls.code).toBe(0);
  });

  it("the getting-started app and an app schema type-check with tsc (strict, nodenext, no skipLibCheck)", {
    timeout: 120_000,
  }, async () => {
    const t0 = performance.now();
    mkdirSync(join(appDir, "src"), { recursive: true });
    writeFileSync(join(appDir, "src", "app.ts"), gettingStartedApp());
    writeFileSync(join(appDir, "src", "schema-check.ts"), schemaCheck);
    writeFileSync(
      join(appDir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "es2023",
          lib: ["es2023", "dom"],
          module: "nodenext",
          moduleResolution: "nodenext",
          strict: true,
          skipLibCheck: false,
          types: ["node"],
          rootDir: "src",
          outDir: "out",
        },
        include: ["src"],
      }),
    );
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
    const result = await run(process.execPath, [tsc, "-p", "tsconfig.json"], appDir);
    lap("tsc", t0);
    expect(result.output).toBe("");
    expect(result.code).toBe(0);
  });

  it("an app schema made with the app's zod validates the register body and reaches the OpenAPI document", async () => {
    const result = await run(process.execPath, [join(appDir, "out", "schema-check.js")], appDir);
    expect(result.code, result.output).toBe(0);
    const check = JSON.parse(result.stdout) as {
      withoutNickname: { status: number; body: { detail: { loc: string[] }[] } };
      withNickname: { status: number; body: { email: string } };
      zodTypeOfKoaSchema: boolean;
      documentText: boolean;
    };
    expect(check.withoutNickname.status).toBe(422);
    expect(check.withoutNickname.body.detail[0]?.loc).toEqual(["body", "nickname"]);
    expect(check.withNickname.status).toBe(201);
    expect(check.withNickname.body.email).toBe("zod@example.com");
    expect(check.zodTypeOfKoaSchema).toBe(true);
    expect(check.documentText).toBe(true);
  });

  it("starts with node and runs register -> login -> /users/me -> logout over HTTP", async () => {
    const port = await freePort();
    appUrl = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [join(appDir, "out", "app.js")], {
      cwd: appDir,
      env: childEnv({ PORT: String(port) }),
      stdio: "pipe",
    });
    let output = "";
    child.stderr?.on("data", (d) => {
      output += d;
    });
    for (let i = 0; ; i++) {
      try {
        await request(`${appUrl}/users/me`);
        break;
      } catch {
        if (child.exitCode !== null || i > 100)
          throw new Error(`the app did not listen: ${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const email = "ada@example.com";
    const password = "correct horse battery";
    const reg = await request(`${appUrl}/auth/register`, { json: { email, password } });
    expect(reg.status).toBe(201);

    // Bearer: login, me, logout.
    const login = await request(`${appUrl}/auth/jwt/login`, {
      form: { username: email, password },
    });
    expect(login.status).toBe(200);
    const token = (login.body as { access_token: string }).access_token;
    const me = await request(`${appUrl}/users/me`, { bearer: token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ email, is_active: true });
    const logout = await request(`${appUrl}/auth/jwt/logout`, { method: "POST", bearer: token });
    expect(logout.status).toBe(204);

    // Cookie: login, me, logout (same-origin, as a browser's Origin says), then me is 401.
    const cookieLogin = await request(`${appUrl}/auth/cookie/login`, {
      form: { username: email, password },
    });
    expect(cookieLogin.status).toBe(204);
    const cookie = (cookieLogin.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    expect(cookie).toMatch(/=./);
    const cookieMe = await request(`${appUrl}/users/me`, { headers: { cookie } });
    expect(cookieMe.body).toMatchObject({ email });
    const cookieLogout = await request(`${appUrl}/auth/cookie/logout`, {
      method: "POST",
      headers: { cookie, origin: appUrl },
    });
    expect(cookieLogout.status).toBe(204);
    expect(cookieLogout.headers.get("set-cookie") ?? "").toMatch(
      /Max-Age=0|Expires=Thu, 01 Jan 1970/i,
    );
    const noCookie = await request(`${appUrl}/users/me`);
    expect(noCookie.status).toBe(401);
  });

  it("every package with a bin runs `<bin> --help` from the install with exit code 0", async () => {
    const bins = packed.flatMap((p) => {
      const bin = readJson<Manifest>(
        join(appDir, "node_modules", ...p.name.split("/"), "package.json"),
      ).bin;
      const names =
        typeof bin === "string" ? [p.name.split("/").pop() ?? p.name] : Object.keys(bin ?? {});
      return names.map((name) => ({ pkg: p.name, name }));
    });
    console.log(`[packaging] bins: ${JSON.stringify(bins)}`);
    for (const { pkg, name } of bins) {
      const result = await run(join(appDir, "node_modules", ".bin", name), ["--help"], appDir);
      console.log(
        `[packaging] ${name} --help (${pkg}) exited ${result.code}\n${result.output.trim()}`,
      );
      expect(result.code, `${pkg}: ${name} --help\n${result.output}`).toBe(0);
    }
  });
});
