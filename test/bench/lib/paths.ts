// Where the benchmark lives: its own directory (servers/, lib/, python/) and the repo root.
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** test/bench/, with a trailing slash. */
export const BENCH_DIR = fileURLToPath(new URL("..", import.meta.url));
export const ROOT = join(BENCH_DIR, "..", "..");
/** Where results are written by default, and the page whose sections they update. */
export const DOCS_OUT = join(ROOT, "docs", "benchmarks");
export const DOCS_PAGE = join(ROOT, "docs", "benchmarks.md");
