// Usage: node test/harness/watchdog.ts <runDir> <ownerPid>
//
// Started detached (own session) by global-setup. When the vitest process that owns the run
// dies without tearing down (SIGKILL, OOM, a CI timeout), this kills the run's servers and
// removes its directory, so no postgres/redis/ferretdb outlives the test command. It exits by
// itself once the run directory is gone (the normal teardown removed it).
// The import names the .ts file because plain node (type stripping) runs this, not vitest.
import { existsSync } from "node:fs";
import { isRunning, sweepRunSync } from "./sweep.ts";

const [runDir, ownerArg] = process.argv.slice(2);
const owner = Number(ownerArg);
if (!runDir || !Number.isInteger(owner)) {
  console.error("usage: watchdog.ts <runDir> <ownerPid>");
  process.exit(2);
}

// Ctrl-C goes to the terminal's foreground process group; being detached we do not get it,
// but ignore these anyway so nothing stops the watchdog before its owner is gone.
for (const sig of ["SIGINT", "SIGHUP"] as const) process.on(sig, () => {});

const timer = setInterval(() => {
  if (!existsSync(runDir)) {
    clearInterval(timer);
  } else if (!isRunning(owner)) {
    clearInterval(timer);
    sweepRunSync(runDir);
  }
}, 300);
