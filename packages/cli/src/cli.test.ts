// runCli in this process: the argument parsing, the exit codes of usage errors, and the
// terminal path of create-superuser (a pseudo-terminal is hard to give a child process, so
// the prompt is injected here; test/cli runs the stdin path in a real child process).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type CliIo, runCli } from "./cli.js";
import type { SecretPrompt } from "./password.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tessera-cli-unit-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[], io: Partial<CliIo> = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on("data", (c: Buffer) => out.push(c.toString()));
  stderr.on("data", (c: Buffer) => err.push(c.toString()));
  const code = await runCli(argv, {
    stdin: Object.assign(Readable.from([]), { isTTY: false }),
    env: {},
    cwd: dir,
    ...io,
    stdout,
    stderr,
  });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

describe("tessera: parsing and usage errors", () => {
  it("--help lists every command, the connection variables and the exit codes (0)", async () => {
    const { code, stdout } = await run(["--help"]);
    expect(code).toBe(0);
    for (const text of ["migrate", "users", "sessions", "keys", "DATABASE_URL", "Exit codes:"]) {
      expect(stdout).toContain(text);
    }
  });

  it.each([
    ["migrate"],
    ["users", "create-superuser"],
    ["users", "deactivate"],
    ["sessions", "purge-expired"],
    ["sessions", "revoke"],
    ["keys", "generate"],
    ["keys", "rotate"],
    ["keys", "promote"],
  ])("%s %s --help answers 0 with its exit codes", async (...command) => {
    const { code, stdout } = await run([...command, "--help"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: tessera /);
    expect(stdout).toContain("3  cannot connect");
  });

  it.each([
    [["bogus"], /unknown command 'bogus'/],
    [["users"], /Usage: tessera users/],
    [["users", "deactivate"], /missing required argument 'email'/],
    [["sessions", "revoke"], /required option '--user <email>' not specified/],
    [["migrate", "sideways"], /value 'sideways' is invalid for argument 'action'/],
    [["keys", "generate", "--alg", "HS256"], /Allowed choices are ES256, EdDSA, RS256/],
    [["keys", "rotate", "--file", "x.json", "--retire", "0"], /a whole number, 1 or more/],
    [["keys", "rotate", "--file", "x.json", "--stage", "--retire", "1"], /--stage .*2 or more/],
    [["keys", "promote"], /required option '-f, --file <file>' not specified/],
    [["keys", "promote", "-f", "x.json", "a", "b"], /too many arguments/],
    [["migrate", "--nope"], /unknown option '--nope'/],
  ])("%j is a usage error (2), said on stderr", async (argv, message) => {
    const { code, stdout, stderr } = await run(argv as string[]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stdout).toBe("");
  });

  it("no database configured is a usage error (2)", async () => {
    const { code, stderr } = await run(["sessions", "purge-expired"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^tessera: no database: set DATABASE_URL/);
  });

  it("an address that is not an email is a usage error (2), before any connection", async () => {
    const { code, stderr } = await run(["users", "deactivate", "not-an-email"]);
    expect(code).toBe(2);
    expect(stderr).toContain('not an email address: "not-an-email"');
  });

  it("--json reports errors as JSON on stderr", async () => {
    const { code, stderr } = await run(["--json", "sessions", "purge-expired"]);
    expect(code).toBe(2);
    expect(JSON.parse(stderr)).toMatchObject({
      exitCode: 2,
      error: expect.stringMatching(/^no database/),
    });
  });

  it("--version prints the package's version (0)", async () => {
    const { code, stdout } = await run(["--version"]);
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("--config naming a missing file, or a module without connect(), is a usage error (2)", async () => {
    expect((await run(["--config", "nope.mjs", "migrate"])).stderr).toMatch(/does not exist/);
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(dir, "empty.config.mjs"), "export default {};\n");
    const { code, stderr } = await run(["--config", "empty.config.mjs", "migrate"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/default export must be defineConfig/);
  });
});

describe("users create-superuser on a terminal", () => {
  it("asks for the email and the password (twice, no echo) through the prompt, on SQLite", async () => {
    const env = { DATABASE_URL: `sqlite:${join(dir, "tty.sqlite")}` };
    expect((await run(["migrate"], { env })).code).toBe(0);
    const prompt = vi.fn<SecretPrompt>(async () => "a terminal's passphrase");
    // A terminal: the email is typed on it; the password goes through the no-echo prompt.
    const stdin = Object.assign(Readable.from(["Root@Example.com\n"]), { isTTY: true });
    const { code, stdout, stderr } = await run(["users", "create-superuser"], {
      env,
      stdin,
      prompt,
    });
    expect(stderr).toContain("Email: ");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^created superuser root@example\.com \(id [0-9a-f-]{36}\)\n$/);
    expect(prompt).toHaveBeenCalledTimes(2);
    expect(prompt.mock.calls[0]?.[0]).toEqual({ message: "Password:", mask: false });
  });

  it("refuses an email that has an account before asking for a password (1)", async () => {
    const env = { DATABASE_URL: `sqlite:${join(dir, "tty.sqlite")}` };
    const prompt = vi.fn<SecretPrompt>(async () => "a terminal's passphrase");
    const stdin = Object.assign(Readable.from([]), { isTTY: true });
    const { code, stderr } = await run(
      ["users", "create-superuser", "--email", "ROOT@example.com"],
      { env, stdin, prompt },
    );
    expect(code).toBe(1);
    expect(stderr).toBe("tessera: a user with email root@example.com already exists\n");
    expect(prompt).not.toHaveBeenCalled();
  });
});

describe("sessions revoke with a store that fails", () => {
  it("still ends the sessions in the other stores, then fails naming the one left (exit of its error)", async () => {
    const { writeFileSync } = await import("node:fs");
    writeFileSync(
      join(dir, "stores.config.mjs"),
      `const user = { id: "u1", email: "ada@example.com", isActive: true };
export const ended = [];
export default {
  async connect() {
    return {
      userManager: { findByEmail: async (email) => (email === user.email ? user : null) },
      sessions: {
        redis: { revokeUser: async () => { throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6379"), { code: "ECONNREFUSED" }); } },
        database: { revokeUser: async (u) => { ended.push(u.id); } },
      },
      close: async () => {},
    };
  },
};
`,
    );
    const { code, stderr } = await run([
      "--config",
      "stores.config.mjs",
      "sessions",
      "revoke",
      "--user",
      "ada@example.com",
    ]);
    expect(code).toBe(3);
    expect(stderr).toBe(
      "tessera: sessions of ada@example.com not ended in redis (cannot connect: connect ECONNREFUSED 127.0.0.1:6379); ended in database\n",
    );
    const { ended } = (await import(join(dir, "stores.config.mjs"))) as { ended: string[] };
    expect(ended).toEqual(["u1"]);
  });
});

describe("keys rotate --stage and keys promote", () => {
  it("stage, then promote, in --json; promote again fails (1) and leaves the file alone", async () => {
    const file = join(dir, "staged.json");
    expect((await run(["keys", "generate", "--out", file])).code).toBe(0);
    const { readFileSync } = await import("node:fs");
    const kids = () =>
      (JSON.parse(readFileSync(file, "utf8")) as { keys: { kid: string }[] }).keys.map(
        (k) => k.kid,
      );
    const [original] = kids();

    const staged = await run(["--json", "keys", "rotate", "--file", file, "--stage"]);
    expect(staged.stderr).toBe("");
    expect(staged.code).toBe(0);
    const s = JSON.parse(staged.stdout) as { added: string };
    expect(JSON.parse(staged.stdout)).toEqual({
      file,
      added: s.added,
      alg: "ES256",
      staged: true,
      keys: [original, s.added],
      retired: [],
    });

    const promoted = await run(["--json", "keys", "promote", "--file", file]);
    expect(promoted.stderr).toBe("");
    expect(promoted.code).toBe(0);
    expect(JSON.parse(promoted.stdout)).toEqual({
      file,
      promoted: s.added,
      alg: "ES256",
      previous: original,
      keys: [s.added, original],
    });

    const before = readFileSync(file, "utf8");
    const again = await run(["keys", "promote", "--file", file]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe("tessera: no staged key to promote: run keys rotate --stage first\n");
    const named = await run(["--json", "keys", "promote", "-f", file, String(original)]);
    expect(named.code).toBe(1);
    expect(JSON.parse(named.stderr)).toEqual({
      error: `key ${original} is not a staged key (staged: none)`,
      exitCode: 1,
    });
    expect(readFileSync(file, "utf8")).toBe(before);
  });

  it("the text output says which key signs", async () => {
    const file = join(dir, "staged-text.json");
    expect((await run(["keys", "generate", "--alg", "EdDSA", "--out", file])).code).toBe(0);
    const staged = await run(["keys", "rotate", "--file", file, "--stage", "--alg", "ES256"]);
    expect(staged.stdout).toMatch(
      /: staged ES256 key \S+ \(verifies; \S+ still signs: restart every instance, then keys promote\), 2 keys\n$/,
    );
    const promoted = await run(["keys", "promote", "--file", file]);
    expect(promoted.stdout).toMatch(/: ES256 key \S+ now signs, \S+ verifies; 2 keys\n$/);
  });
});
