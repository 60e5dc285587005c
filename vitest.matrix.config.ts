import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

// The Node matrix (scripts/node-matrix.sh): the unit tests and the HTTP suite, run by
// `npm test` on Node 22 and on the newest Node besides the main run on Node 24. The
// servers-only suites (adapters on each database, outages, hardening, the example app,
// the benchmark, Schemathesis) run once, on the toolchain's Node, in the main run.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      "packages/*/src/**/*.test.ts",
      "examples/*/src/**/*.test.ts",
      "test/http/**/*.test.ts",
      "test/node-matrix/**/*.test.ts",
    ],
  },
});
