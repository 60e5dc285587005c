// The Node matrix (scripts/node-matrix.sh) runs the unit and HTTP suites on Node 22 and on the
// newest Node as well as on the toolchain's Node 24. These tests prove in each run's log which
// Node ran the test workers, keep `engines` equal to what is tested, and start the harness's
// watchdog the way the global setup does (it needs a flag for type stripping on Node 22.17).
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { watchdogCommand } from "../harness/global-setup.js";

const root = join(import.meta.dirname, "..", "..");
const readJson = (path: string) => JSON.parse(readFileSync(join(root, path), "utf8"));
/** The exact `node` version a tools/<dir>/package.json pins. */
const pinned = (dir: string): string => readJson(`tools/${dir}/package.json`).devDependencies.node;
const major = (version: string) => Number(version.split(".")[0]);

const floor = pinned("node22"); // the oldest Node tested, and the floor of `engines`
const main = pinned("toolchain"); // npm test's main run
const newest = pinned("node-newest"); // the newest Node release when last bumped
/** One caret range per even release line tested, then the newest line and later. */
const ENGINES = `^${floor} || ^${major(main)}.0.0 || >=${major(newest)}.0.0`;

describe("the Node this run is on", () => {
  it("is the one the Node matrix asked for, else the toolchain's", () => {
    // scripts/node-matrix.sh sets TESSERA_NODE_EXPECTED to the version it runs vitest on.
    const expected = process.env.TESSERA_NODE_EXPECTED || main;
    console.log(`test workers run on Node ${process.version} (${process.execPath})`);
    expect(process.versions.node).toBe(expected);
  });

  it("starts the harness's watchdog (plain node running a .ts file)", () => {
    // A run directory that does not exist: the watchdog exits 0 at its first check. Without
    // type stripping it would die at once with ERR_UNKNOWN_FILE_EXTENSION (exit code 1).
    const missing = join(root, "test", ".services", "run-node-matrix-does-not-exist");
    const [command, args] = watchdogCommand(missing, process.pid);
    const result = spawnSync(command, args, { encoding: "utf8", timeout: 20_000 });
    expect(result.stderr).not.toMatch(/ERR_UNKNOWN_FILE_EXTENSION/);
    expect(result.status).toBe(0);
  });
});

describe("engines", () => {
  it("tests one Node per supported release line: 22 at its floor, 24, and the newest", () => {
    expect([major(floor), major(main)]).toEqual([22, 24]);
    expect(major(newest)).toBeGreaterThan(major(main));
  });

  it("every package.json states exactly the tested range", () => {
    const manifests = ["package.json"];
    for (const dir of ["packages", "examples"]) {
      for (const name of readdirSync(join(root, dir))) {
        manifests.push(`${dir}/${name}/package.json`);
      }
    }
    const engines = Object.fromEntries(manifests.map((m) => [m, readJson(m).engines?.node]));
    expect(engines).toEqual(Object.fromEntries(manifests.map((m) => [m, ENGINES])));
  });
});
