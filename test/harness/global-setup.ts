// vitest globalSetup: starts PostgreSQL, Redis (single + 3-node cluster) and a MongoDB-protocol
// server before any test file runs, hands their addresses to the workers, and tears them down
// after — also on a failed run, Ctrl-C/SIGTERM, or a crash (see watchdog.ts).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { startOidcProvider } from "./oidc-provider.js";
import { newRunDir, SERVICES_ROOT, servicesEnv, startServices, stopServices } from "./services.js";
import { sweepRunSync, sweepStaleRuns } from "./sweep.js";
import type { ServicesInfo } from "./types.js";

// Re-exported so a test file importing the harness gets the `inject("services")` typing.
export type { ServicesInfo } from "./types.js";

const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;

/**
 * How to start watchdog.ts for a run: plain node runs the .ts file, and Node 22 before 22.18
 * strips types only behind a flag (the Node matrix runs on 22.17.0, the floor of `engines`).
 */
export function watchdogCommand(runDir: string, ownerPid: number): [string, string[]] {
  const stripTypes = process.features.typescript ? [] : ["--experimental-strip-types"];
  const script = fileURLToPath(new URL("./watchdog.ts", import.meta.url));
  return [process.execPath, [...stripTypes, script, runDir, String(ownerPid)]];
}

export default async function setup({ provide }: TestProject): Promise<() => Promise<void>> {
  // A previous run killed with SIGKILL (or a lost watchdog) leaves servers and dirs behind:
  // their owner process is gone, so they are ours to remove. Live owners = concurrent runs.
  for (const dir of sweepStaleRuns(SERVICES_ROOT)) {
    console.warn(`tessera harness: cleaned up a stale run: ${dir}`);
  }
  const runDir = newRunDir();

  // The backstop for deaths that run no JS at all (SIGKILL, OOM killer, CI timeouts).
  const watchdog = spawn(...watchdogCommand(runDir, process.pid), {
    detached: true,
    stdio: "ignore",
  });
  watchdog.unref();

  // vitest answers SIGINT/SIGTERM with process.exit() without running globalSetup teardowns,
  // so kill the servers synchronously here and on 'exit' (idempotent; nothing async runs then).
  const onExit = () => sweepRunSync(runDir);
  const onSignal = (sig: keyof typeof SIGNAL_NUMBERS) => {
    sweepRunSync(runDir);
    process.exitCode ??= 128 + SIGNAL_NUMBERS[sig];
    // Exit even if no other handler does (ours disables Node's default exit-on-signal).
    setTimeout(() => process.exit(), 100).unref();
  };
  process.on("exit", onExit);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  let info: ServicesInfo;
  try {
    info = await startServices(runDir);
  } catch (e) {
    sweepRunSync(runDir);
    throw e;
  }

  // The OIDC provider runs in this process (no binary, nothing to sweep: it dies with us).
  const oidcStarted = performance.now();
  let oidc: Awaited<ReturnType<typeof startOidcProvider>>;
  try {
    oidc = await startOidcProvider();
  } catch (e) {
    sweepRunSync(runDir);
    throw e;
  }
  info.timings.oidc = Math.round(performance.now() - oidcStarted);

  provide("services", info);
  provide("oidc", oidc.info);
  // Workers are forked after globalSetup and inherit process.env: code that is not vitest-aware
  // (package tests, example apps) finds the servers the usual way.
  Object.assign(process.env, servicesEnv(info), { TESSERA_OIDC_ISSUER: oidc.info.issuer });
  const each = Object.entries(info.timings).map(([k, ms]) => `${k} ${ms} ms`);
  console.log(
    `tessera harness: services ready in ${info.startupMs} ms (${each.join(", ") || "all external"})`,
  );

  return async () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await Promise.allSettled([stopServices(info), oidc.close()]);
    process.off("exit", onExit);
  };
}
