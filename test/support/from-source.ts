// The node command line that runs a TypeScript entry point of the workspace from its
// sources, with no build step: Node's TypeScript transform, the packages' "tessera-source"
// export condition, and the `.js` -> `.ts` resolution hook the benchmark uses. For tests
// that start the example app or the `tessera` CLI as real child processes.
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const RESOLVE_HOOK = pathToFileURL(join(root, "test", "bench", "ts-resolve.ts")).href;

/** `[node, …flags, entry]` for `entry`, a path relative to the repo root. */
export function nodeFromSource(entry: string): string[] {
  return [
    process.execPath,
    "--experimental-transform-types",
    "--disable-warning=ExperimentalWarning",
    "--conditions=tessera-source",
    "--import",
    RESOLVE_HOOK,
    join(root, entry),
  ];
}
