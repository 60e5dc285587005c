// FastAPI Users' runtime: a virtualenv in test/bench/.venv (gitignored), from PyPI, pinned by
// python/requirements.txt, made on the first run and refreshed when the requirements change.
import { execFileSync } from "node:child_process";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { log } from "./log.ts";
import { BENCH_DIR } from "./paths.ts";

/** The venv's python, installed if needed. */
export function ensurePython(): string {
  const venv = join(BENCH_DIR, ".venv");
  const python = join(venv, "bin", "python");
  const requirements = join(BENCH_DIR, "python", "requirements.txt");
  const stamp = join(venv, ".installed");
  if (!existsSync(python)) {
    log("creating the Python venv for FastAPI Users (test/bench/.venv)…");
    execFileSync("python3", ["-m", "venv", venv], { stdio: "inherit" });
  }
  if (!existsSync(stamp) || statSync(requirements).mtimeMs > statSync(stamp).mtimeMs) {
    log("pip install -r python/requirements.txt…");
    execFileSync(python, ["-m", "pip", "install", "-q", "-r", requirements], { stdio: "inherit" });
    writeFileSync(stamp, "");
  }
  return python;
}
