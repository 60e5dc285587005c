// The before/after mode's bookkeeping (`--compare REV`), without a checkout or a server: the
// twins' names, their place in each round, and the per-round ratio of the two.
import { describe, expect, it } from "vitest";
import type { CompareTarget } from "./lib/compare.ts";
import { twinsAt } from "./lib/compare.ts";
import { compareTable, type Measurement, summarize } from "./lib/report.ts";
import { roundOrder } from "./lib/rounds.ts";
import { VARIANTS, type Variant } from "./lib/variants.ts";

const pick = (...names: string[]) =>
  names.map((n) => VARIANTS.find((v) => v.name === n) as Variant);
const target = { short: "abc1234" } as CompareTarget;
const variants = pick("koa", "tessera-jwt-memory", "tessera-db-pg");
const twins = twinsAt(target, variants.slice(1));

describe("--compare", () => {
  it("names each twin after its variant and the commit", () => {
    expect(twins.map((t) => [t.name, t.base, t.rev, t.server])).toEqual([
      ["tessera-jwt-memory@abc1234", "tessera-jwt-memory", "abc1234", "tessera-jwt-memory"],
      ["tessera-db-pg@abc1234", "tessera-db-pg", "abc1234", "tessera-db-pg"],
    ]);
  });

  it("runs a variant and its twin back to back, swapping who goes first every other round", () => {
    const names = (round: number) => roundOrder(variants, twins, round, 3).map((v) => v.name);
    expect(names(1)).toEqual([
      "koa",
      "tessera-jwt-memory",
      "tessera-jwt-memory@abc1234",
      "tessera-db-pg",
      "tessera-db-pg@abc1234",
    ]);
    expect(names(2)).toEqual([
      "tessera-jwt-memory@abc1234",
      "tessera-jwt-memory",
      "tessera-db-pg@abc1234",
      "tessera-db-pg",
      "koa",
    ]);
    // Without twins, the order is the rotation alone.
    expect(roundOrder(variants, [], 2, 3).map((v) => v.name)).toEqual([
      "tessera-jwt-memory",
      "tessera-db-pg",
      "koa",
    ]);
  });

  it("compares the two in each round, then takes the median", () => {
    const m = (variant: string, round: number, ratio: number) =>
      ({ variant, round, ratio, rps: ratio * 1000, p50Ms: 1, p99Ms: 2, errors: 0 }) as Measurement;
    const measurements = [1, 2, 3].flatMap((round) => [
      m("koa", round, 1),
      m("tessera-jwt-memory", round, [0.8, 0.6, 0.9][round - 1] as number),
      m("tessera-jwt-memory@abc1234", round, [0.4, 0.6, 0.3][round - 1] as number),
    ]);
    const all = [variants[0], variants[1], twins[0]] as Variant[];
    const table = compareTable(summarize(all, measurements), measurements, (v) => v.name);
    // Per round: 2, 1, 3 -> median 2.
    expect(table).toContain("| tessera-jwt-memory | **0.800** | **0.400** | 2.000 (1.000–3.000) |");
  });
});
