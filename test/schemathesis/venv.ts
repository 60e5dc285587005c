// Schemathesis from PyPI in a virtualenv of its own, made on first use the way the benchmark
// makes its FastAPI Users venv: .tools/venv-schemathesis/<version>-<hash of requirements.txt>
// (gitignored), so a changed pin gets a fresh venv and an unchanged one costs nothing.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { root } from "../example/support.js";

const run = promisify(execFile);
const REQUIREMENTS = join(root, "test", "schemathesis", "requirements.txt");
/** Schemathesis 4.x needs Python 3.11 or later (its Requires-Python). */
const MIN_PYTHON: [number, number] = [3, 11];
const INSTALL_HINT =
  "install Python 3.11+ with venv and pip (Debian/Ubuntu: apt-get install python3 python3-venv)";

/** The pinned version, read from requirements.txt. */
export function schemathesisVersion(): string {
  const pin = /^schemathesis==(\S+)$/m.exec(readFileSync(REQUIREMENTS, "utf8"))?.[1];
  if (!pin) throw new Error(`${REQUIREMENTS} pins no schemathesis==<version>`);
  return pin;
}

/**
 * Makes the venv unless it exists and returns the command that runs Schemathesis's CLI
 * (`python -m schemathesis.cli`, which, unlike bin/st, does not break when the venv is moved).
 * Fails, never skips, when Python cannot make one.
 */
export async function ensureSchemathesis(log: (line: string) => void): Promise<string[]> {
  const requirements = readFileSync(REQUIREMENTS);
  const key = `${schemathesisVersion()}-${createHash("sha256").update(requirements).digest("hex").slice(0, 12)}`;
  const venv = join(root, ".tools", "venv-schemathesis", key);
  const python = join(venv, "bin", "python");
  const command = [python, "-m", "schemathesis.cli"];
  if (existsSync(join(venv, ".installed"))) return command;

  const base = await checkPython();
  // Built beside the final directory and renamed into place: a concurrent or interrupted
  // run never sees a half-installed venv.
  const building = `${venv}.tmp-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(join(root, ".tools", "venv-schemathesis"), { recursive: true });
  const began = performance.now();
  log(`creating ${venv} with ${base} (first run only)…`);
  try {
    await run(base, ["-m", "venv", building]);
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    throw new Error(`${base} -m venv failed: ${INSTALL_HINT}\n${output(error)}`);
  }
  try {
    await run(
      join(building, "bin", "python"),
      ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", REQUIREMENTS],
      { maxBuffer: 16 * 2 ** 20 },
    );
    writeFileSync(join(building, ".installed"), `${new Date().toISOString()}\n`);
    if (!existsSync(join(venv, ".installed"))) {
      rmSync(venv, { recursive: true, force: true });
      renameSync(building, venv);
    }
  } catch (error) {
    throw new Error(`pip install -r ${REQUIREMENTS} failed:\n${output(error)}`);
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  log(`installed in ${Math.round((performance.now() - began) / 1000)} s`);
  return command;
}

/** `python3`, checked to exist, to be recent enough and to have venv with pip (ensurepip). */
async function checkPython(): Promise<string> {
  const base = "python3";
  let version: string;
  try {
    const { stdout } = await run(base, [
      "-c",
      "import sys, venv, ensurepip; print('%d.%d' % sys.version_info[:2])",
    ]);
    version = stdout.trim();
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new Error(
      `${missing ? "python3 is not on PATH" : "python3 has no venv/ensurepip module"}: ${INSTALL_HINT}\n${output(error)}`,
    );
  }
  const [major = 0, minor = 0] = version.split(".").map(Number);
  if (major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1])) {
    throw new Error(
      `python3 is ${version}, Schemathesis needs ${MIN_PYTHON.join(".")}+: ${INSTALL_HINT}`,
    );
  }
  return base;
}

function output(error: unknown): string {
  const e = error as { stdout?: string; stderr?: string; message?: string };
  return [e.stderr, e.stdout].filter(Boolean).join("\n").trim() || (e.message ?? String(error));
}
