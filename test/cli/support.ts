// Runs the `tessera` CLI as a real child process, from its sources (no build step): Node's
// TypeScript transform, the workspace's "tessera-source" condition, and the `.js` -> `.ts`
// resolution hook the benchmark uses. Node's compile cache (shared by every test file and
// run, keyed by content) keeps a run under a second once warm.
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { nodeFromSource } from "../support/from-source.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const COMPILE_CACHE = join(tmpdir(), "tessera-cli-test-compile-cache");

/** The node command line that runs `tessera` from its sources, before its arguments. */
export function tesseraCommand(): string[] {
  return nodeFromSource("packages/cli/src/bin.ts");
}

/** The environment of a run: PATH, HOME and the compile cache, then `env`. */
export function tesseraEnv(env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return { ...baseEnv(), ...env };
}

/** What one run of `tessera` did. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

/** The variables a run starts from: PATH and HOME only, so the harness's URLs never leak in. */
function baseEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, NODE_COMPILE_CACHE: COMPILE_CACHE };
}

/**
 * Runs `tessera ...args` with `env` (on top of PATH and HOME), `input` written to its stdin
 * (a pipe, so not a terminal; closed after), in `cwd`.
 */
export function tessera(
  args: string[],
  options: { env?: Record<string, string | undefined>; input?: string; cwd?: string } = {},
): Promise<CliRun> {
  const started = performance.now();
  const [node, ...flags] = tesseraCommand();
  const child = spawn(node as string, [...flags, ...args], {
    cwd: options.cwd ?? ROOT,
    env: tesseraEnv(options.env),
    stdio: ["pipe", "pipe", "pipe"],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (c: Buffer) => out.push(c));
  child.stderr.on("data", (c: Buffer) => err.push(c));
  child.stdin.on("error", () => undefined);
  child.stdin.end(options.input ?? "");
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        ms: performance.now() - started,
      }),
    );
  });
}

/** A port on 127.0.0.1 that nothing listens on: bound, then released. */
export async function closedPort(): Promise<number> {
  const { createServer } = await import("node:net");
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
