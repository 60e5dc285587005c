import { defineConfig } from "vitest/config";

const sourceConditions = ["tessera-source", "module", "node", "development|production"];

export default defineConfig({
  // Tests run against package sources: each package's `exports` has a "tessera-source"
  // condition pointing at src/, so no build is needed to test. Vitest resolves test
  // imports in Vite's SSR environment, whose conditions are set apart from resolve's.
  resolve: { conditions: sourceConditions },
  ssr: { resolve: { conditions: sourceConditions, externalConditions: sourceConditions } },
  test: {
    include: ["packages/*/src/**/*.test.ts", "test/**/*.test.ts", "examples/*/src/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: "forks",
    reporters: ["default", "./test/support/summary-reporter.ts"],
    globalSetup: ["test/harness/global-setup.ts"],
  },
});
