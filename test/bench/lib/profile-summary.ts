// Usage: node lib/profile-summary.ts <file.cpuprofile> [top=30]
// Self time by function (and by package), from a V8 CPU profile written by `--cpu-prof`
// (run the benchmark with BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR").
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

const [file, topArg] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file as string, "utf8")) as { nodes: ProfileNode[] };
const total = profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0);
const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
for (const node of profile.nodes) {
  const hits = node.hitCount ?? 0;
  if (!hits) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const short = url
    .replace(/^.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, "")
    .replace(/^file:\/\/.*\/(packages|test)\//, "$1/");
  const key = `${functionName || "(anonymous)"} ${short}:${lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
  const pkg =
    /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ??
    (/packages\/([^/]+)/.exec(url)?.[1]
      ? `@tessera/${/packages\/([^/]+)/.exec(url)?.[1]}`
      : url.startsWith("node:")
        ? "node:internal"
        : url === ""
          ? `(${functionName})`
          : "other");
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + hits);
}
const pct = (n: number) => `${((100 * n) / total).toFixed(1).padStart(5)}%`;
const top = Number(topArg ?? 30);
console.log("self time by package:");
for (const [k, v] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 20))
  console.log(`${pct(v)}  ${k}`);
console.log("\nself time by function:");
for (const [k, v] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`${pct(v)}  ${k}`);
