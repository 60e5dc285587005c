// The benchmark chart, drawn from the committed latest run: no label cut off, the unsafe
// references apart from the peers, and the MongoDB-protocol bars naming their server.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ratioChart } from "./lib/chart.ts";
import { type BenchResults, chartRows, variantLabel } from "./lib/report.ts";
import { textWidth } from "./lib/text-width.ts";
import { VARIANTS, type Variant } from "./lib/variants.ts";

const latest = JSON.parse(
  readFileSync(
    fileURLToPath(new URL("../../docs/benchmarks/latest.json", import.meta.url)),
    "utf8",
  ),
) as BenchResults;
const unescapeXml = (s: string) =>
  s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
const rows = chartRows(latest);
const svg = ratioChart(rows, "title");
const width = Number(/<svg [^>]*width="(\d+)"/.exec(svg)?.[1]);

describe("the benchmark chart", () => {
  it("has every line of text inside the picture", () => {
    const texts = [...svg.matchAll(/<text x="([\d.]+)"[^>]*?( text-anchor="end")?>(.*?)<\/text>/g)];
    expect(texts.length).toBeGreaterThan(rows.length);
    for (const [, x, end, inner] of texts) {
      for (const [, line] of (inner as string).matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)) {
        const w = textWidth(unescapeXml(line as string), 13);
        if (end) expect(Number(x) - w, line).toBeGreaterThanOrEqual(0);
        else expect(Number(x) + w, line).toBeLessThanOrEqual(width);
      }
    }
  });

  it("draws the two references that skip checks in a pattern of their own, with a legend", () => {
    const kinds = new Map(rows.map((r) => [r.label, r.kind]));
    const references = VARIANTS.filter((v) => v.group === "reference").map((v) => v.name);
    expect(references).toEqual(["jwt-decode-only", "redis-hmget"]);
    // Saved as "peer" in this run: the chart files them by today's kind.
    for (const name of references) {
      const saved = latest.summaries.find((s) => s.variant.name === name) as { variant: Variant };
      expect(kinds.get(variantLabel(saved.variant, latest))).toBe("reference");
    }
    expect(svg.match(/fill="url\(#unsafe\)"/g)).toHaveLength(references.length + 1);
    expect(svg).toContain("references that skip checks");
  });

  it("names the MongoDB-protocol server the run measured", () => {
    const mongo = rows.filter((r) => r.label.includes("mongo"));
    expect(mongo).toHaveLength(2);
    for (const r of mongo) expect(r.label).toContain("FerretDB v1.24.2, not mongod");
    const withMongod = { settings: { "mongo server": "mongod" }, versions: { mongod: "v8.0.4" } };
    const v = VARIANTS.find((x) => x.name === "tessera-db-mongo") as Variant;
    expect(variantLabel(v, withMongod)).toBe(`${v.label} on mongod v8.0.4`);
  });

  it("draws a variant measured at another commit paler, next to a legend entry", () => {
    const old = { ...rows[1], label: "x @ abc1234", rev: "abc1234" } as (typeof rows)[number];
    const compared = ratioChart([rows[0], rows[1], old] as typeof rows, "title");
    expect(compared).toContain('fill-opacity="0.45"');
    expect(compared).toContain("at commit abc1234, measured in the same rounds");
  });
});
