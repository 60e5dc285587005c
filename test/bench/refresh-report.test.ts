// The refresh-rate and verify-path tables (issue 15), from made-up figures: which rows, and
// the medians and ranges they show. No server, no timing judged.
import { describe, expect, it } from "vitest";
import {
  type Measurement,
  type RefreshResult,
  refreshTable,
  verifyPathTable,
} from "./lib/report.ts";

const run = (variant: string, round: number, perSecond: number, p99Ms: number): RefreshResult => ({
  round,
  variant,
  chains: 64,
  refreshes: perSecond * 10,
  perSecond,
  p50Ms: p99Ms / 4,
  p90Ms: p99Ms / 2,
  p99Ms,
  maxMs: p99Ms * 2,
  cpuUs: 1000,
  failures: round === 2 ? 1 : 0,
  deadChains: 0,
  loginFailures: 0,
  details: {},
});

describe("refreshTable", () => {
  it("gives each store its median refreshes/s with the range, its p99 and every error", () => {
    const table = refreshTable([
      run("tessera-refresh-pg", 1, 500, 40),
      run("tessera-refresh-redis", 1, 1500, 10),
      run("tessera-refresh-pg", 2, 700, 60),
      run("tessera-refresh-redis", 2, 1300, 12),
      run("tessera-refresh-pg", 3, 600, 50),
      run("tessera-refresh-redis", 3, 1400, 11),
    ]).split("\n");
    expect(table).toHaveLength(4);
    expect(table[2]).toBe(
      "| tessera-refresh-pg | 3 | 64 | **600** (500–700) | 12.50 | **50.00** | 1000 | 1 |",
    );
    expect(table[3]).toMatch(/^\| tessera-refresh-redis \| 3 \| 64 \| \*\*1,400\*\* \(1300–1500\)/);
  });

  it("says so when the phase did not run (--refresh-rounds 0, or a run saved before it)", () => {
    expect(refreshTable(undefined)).toBe("(not run)");
    expect(refreshTable([])).toBe("(not run)");
  });
});

describe("verifyPathTable", () => {
  const m = (variant: string, round: number, rps: number, cpuUs: number) =>
    ({ variant, round, rps, cpuUs }) as Measurement;

  it("divides the refresh-token access path by the JWT strategy's in the same round", () => {
    const table = verifyPathTable([
      m("tessera-jwt-memory", 1, 1000, 100),
      m("tessera-refresh-memory", 1, 950, 110),
      m("tessera-jwt-memory", 2, 2000, 100),
      m("tessera-refresh-memory", 2, 2000, 100),
      m("tessera-jwt-memory", 3, 1000, 100),
      m("tessera-refresh-memory", 3, 900, 120),
    ]);
    expect(table?.split("\n")[2]).toBe(
      "| tessera-refresh-memory ÷ tessera-jwt-memory | **0.950** (0.900–1.000) | **1.100** (1.000–1.200) |",
    );
  });

  it("is absent unless both were measured", () => {
    expect(verifyPathTable([m("tessera-jwt-memory", 1, 1000, 100)])).toBeNull();
  });
});
