// `--compare REV`: a before/after claim measured in one run. REV is checked out into a git
// worktree outside the work tree (.tools/bench-worktrees/<commit>, gitignored), installed
// with the repo's pnpm and built; its servers then run, from that worktree and on its own
// packages, in the same rounds as this checkout's, each as a row of its own
// (`tessera-db-pg@abc1234`) with its ratio to bare Koa in the same round.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { log } from "./log.ts";
import { ROOT } from "./paths.ts";
import type { Variant } from "./variants.ts";

export interface CompareTarget {
  /** As given on the command line. */
  rev: string;
  commit: string;
  /** The abbreviated commit, in the rows' names. */
  short: string;
  subject: string;
  /** The worktree's test/bench, where its servers start. */
  benchDir: string;
}

export const WORKTREES = join(ROOT, ".tools", "bench-worktrees");

const git = (args: string[], cwd = ROOT) =>
  execFileSync("git", args, { cwd, encoding: "utf8" }).trim();

/** A command whose output goes to stderr (stdout carries only the tables). */
const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, stdio: ["ignore", 2, 2] });

/** The repo's own pnpm (tools/toolchain), as `npm run bench` puts on the PATH. */
function pnpm(): string {
  const own = join(ROOT, "tools", "toolchain", "node_modules", ".bin", "pnpm");
  return existsSync(own) ? own : "pnpm";
}

/**
 * Checks `rev` out (once per commit), installs and builds it (once, offline where the store
 * allows), and checks that it has a server for each of `variants`.
 */
export function prepareCompare(rev: string, variants: Variant[]): CompareTarget {
  const commit = git(["rev-parse", "--verify", "--end-of-options", `${rev}^{commit}`]);
  const short = git(["rev-parse", "--short=7", commit]);
  const subject = git(["log", "-1", "--format=%s", commit]);
  const dir = join(WORKTREES, short);
  if (!existsSync(join(dir, ".git"))) {
    mkdirSync(WORKTREES, { recursive: true });
    // A worktree directory deleted by hand leaves its registration behind: drop it first.
    git(["worktree", "prune"]);
    log(`checking out ${short} (${rev}) into .tools/bench-worktrees/${short}…`);
    run("git", ["worktree", "add", "--detach", dir, commit], ROOT);
  } else if (git(["rev-parse", "HEAD"], dir) !== commit) {
    throw new Error(`${dir} is not at ${commit}: remove it (git worktree remove --force ${dir})`);
  }
  const stamp = join(dir, ".bench-built");
  if (!existsSync(stamp)) {
    log(`installing and building ${short} (pnpm install --frozen-lockfile --prefer-offline)…`);
    run(pnpm(), ["install", "--frozen-lockfile", "--prefer-offline"], dir);
    run(pnpm(), ["run", "build"], dir);
    writeFileSync(stamp, `${commit}\n`);
  }
  const benchDir = join(dir, "test", "bench");
  const missing = variants.filter(
    (v) => v.runtime === "node" && !existsSync(join(benchDir, "servers", `${v.server}.ts`)),
  );
  if (missing.length > 0) {
    throw new Error(`${short} has no server for ${missing.map((v) => v.name).join(", ")}`);
  }
  return { rev, commit, short, subject, benchDir };
}

/** `variants` as measured at the target: same server module and pool, named `name@short`. */
export function twinsAt(target: CompareTarget, variants: Variant[]): Variant[] {
  return variants.map((v) => ({
    ...v,
    name: `${v.name}@${target.short}`,
    rev: target.short,
    base: v.name,
  }));
}
