// The terminal path of `users create-superuser`, end to end: the CLI runs on a real
// pseudo-terminal (util-linux `script`, present on every Debian as part of bsdutils), the
// test types as a person would once each prompt shows, and the password never appears in
// what the terminal displays (no echo; ASVS 5.0 6.2.6 asks for a masked field on forms).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, tessera, tesseraCommand, tesseraEnv } from "./support.js";

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

/** Runs `tessera args` on a pseudo-terminal; `answers` are typed when their prompt shows. */
function onTerminal(
  args: string[],
  env: Record<string, string>,
  answers: [prompt: string, typed: string][],
): Promise<{ code: number | null; screen: string }> {
  const command = [...tesseraCommand(), ...args].map(quote).join(" ");
  const child = spawn("script", ["-qefc", command, "/dev/null"], {
    cwd: ROOT,
    env: { ...tesseraEnv(env), TERM: "dumb" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let screen = "";
  let seen = 0;
  const pending = [...answers];
  const onOutput = (chunk: Buffer) => {
    screen += chunk.toString();
    const next = pending[0];
    // Type once the prompt is on screen, past what earlier answers matched.
    if (next) {
      const at = screen.indexOf(next[0], seen);
      if (at >= 0) {
        seen = at + next[0].length;
        pending.shift();
        child.stdin.write(`${next[1]}\r`);
      }
    }
  };
  child.stdout.on("data", onOutput);
  child.stderr.on("data", onOutput);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 25_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    });
  });
}

let dir: string;
let env: Record<string, string>;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tessera-cli-tty-"));
  env = { DATABASE_URL: `sqlite:${join(dir, "app.sqlite")}` };
  expect((await tessera(["migrate"], { env })).code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("tessera users create-superuser on a terminal", () => {
  it("asks for the email, then the password twice without echoing it", async () => {
    const password = "typed-on-a-terminal-42";
    const { code, screen } = await onTerminal(["users", "create-superuser"], env, [
      ["Email: ", "tty@example.com"],
      ["Password:", password],
      ["Password (again):", password],
    ]);
    expect(code, screen).toBe(0);
    expect(screen).toMatch(/created superuser tty@example\.com \(id [0-9a-f-]{36}\)/);
    // The email is echoed as typed; the password is nowhere on the screen.
    expect(screen).toContain("tty@example.com");
    expect(screen).not.toContain(password);
    const again = await tessera(["users", "create-superuser", "--email", "tty@example.com"], {
      env,
      input: password,
    });
    expect(again.stderr).toBe("tessera: a user with email tty@example.com already exists\n");
  });

  it("two different entries are refused (exit 1) and no user is made", async () => {
    const { code, screen } = await onTerminal(
      ["users", "create-superuser", "--email", "typo@example.com"],
      env,
      [
        ["Password:", "first-long-passphrase"],
        ["Password (again):", "other-long-passphrase"],
      ],
    );
    expect(code, screen).toBe(1);
    expect(screen).toContain("tessera: the passwords do not match");
    const check = await tessera(["users", "deactivate", "typo@example.com"], { env });
    expect(check.stderr).toBe("tessera: no user with email typo@example.com\n");
  });
});
