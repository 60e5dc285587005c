import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // Tests run against package sources: each package's `exports` has a
    // "tessera-source" condition pointing at src/, so no build is needed to test.
    conditions: ["tessera-source"],
  },
  test: {
    include: ["packages/*/src/**/*.test.ts", "test/**/*.test.ts", "examples/*/src/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
