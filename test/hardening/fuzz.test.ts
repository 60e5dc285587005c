// ASVS 5.0 2.2.1, 16.5.1, 16.5.3: property-based fuzzing over HTTP. fast-check generates
// requests — methods, paths, headers, cookies and bodies, valid tokens mixed with garbage —
// for every route of the test app (all four backends), and a real server answers them over
// keep-alive connections. The property: never a 5xx, never a stack trace, never a hang.
// The generators and the property are in fuzz/; fuzz-rate-limits.test.ts runs them against
// tight rate limits.
import { describe, it } from "vitest";
import { BATCH, fuzz, ROUTES } from "./fuzz/run.js";
import { fuzzTarget } from "./fuzz/target.js";

/** Requests per run: at least 10,000, as the issue asks. */
const RUNS = 200;
/** Batches on the database stores, where what the adapters pass to queries matters. */
const STORE_RUNS = 60;
const UNREACHED = { limit: 100_000, windowSeconds: 60 };

describe.each([
  ["memory", RUNS],
  ["mikroorm-postgresql", STORE_RUNS],
  ["mongo", STORE_RUNS],
] as const)(
  "[%s] ASVS 5.0 2.2.1, 16.5.1, 16.5.3: fuzzed requests to every route never get a 5xx",
  (store, runs) => {
    // Limits no run reaches, and loopback trusted as a proxy, so X-Forwarded-For is parsed.
    const target = fuzzTarget(store, {
      trustedProxies: ["127.0.0.0/8", "::1"],
      routes: Object.fromEntries(ROUTES.map((r) => [r, { account: UNREACHED, client: UNREACHED }])),
    });

    it(`${BATCH * runs} generated requests: no 5xx, no stack trace, no hang`, async () => {
      await fuzz(target, runs, true);
    }, 120_000);
  },
);
