// The SVG bar chart of a run: one bar per variant, its median ratio to bare Koa, a line
// from its lowest to its highest round, and a colour per kind of variant. The label column
// is as wide as the longest label (labels longer than LABEL_MAX wrap), so none is cut off.
import { textWidth } from "./text-width.ts";
import type { Variant } from "./variants.ts";

export interface ChartRow {
  label: string;
  kind: Variant["group"];
  ratio: number;
  ratioMin: number;
  ratioMax: number;
  /** Set on a variant measured at another commit: drawn paler, named in the legend. */
  rev?: string;
}

const FONT = 13;
const LINE = 15;
const LABEL_MAX = 440;
const BAR_W = 420;
const PAD = 10;

const KINDS: Record<Variant["group"], { fill: string; legend: string }> = {
  ceiling: { fill: "#7f7f7f", legend: "bare Koa, no authentication: the ceiling (1.0)" },
  tessera: { fill: "#1f77b4", legend: "Tessera" },
  peer: {
    fill: "#ff7f0e",
    legend:
      "peer libraries (koa-jwt, koa-passport, koa-session) and hand-written pg / mongodb lookups",
  },
  reference: {
    fill: "url(#unsafe)",
    legend:
      "NOT SAFE, references that skip checks (JWT decoded without verifying it; HMGET with no expiry check): ceilings to read Tessera against, not peers",
  },
  fastapi: { fill: "#2ca02c", legend: "FastAPI Users (Python, one uvicorn worker)" },
};

const PATTERN = `<defs><pattern id="unsafe" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f4c7c3"/><rect width="3" height="6" fill="#c62828"/></pattern></defs>`;

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * `text` in as few lines no wider than `max` px as it takes, broken at spaces (a longer word
 * keeps a line of its own), then balanced: the same number of lines, as even as they go.
 */
export function wrap(text: string, max: number, size = FONT): string[] {
  const greedy = (limit: number) => {
    const out: string[] = [];
    let line = "";
    for (const word of text.split(" ")) {
      const next = line ? `${line} ${word}` : word;
      if (line && textWidth(next, size) > limit) {
        out.push(line);
        line = word;
      } else {
        line = next;
      }
    }
    return [...out, line];
  };
  const lines = greedy(max);
  if (lines.length === 1) return lines;
  // The narrowest limit that still needs no more lines.
  let lo = Math.max(...text.split(" ").map((w) => textWidth(w, size)));
  let hi = max;
  while (hi - lo > 1) {
    const mid = (lo + hi) / 2;
    if (greedy(mid).length <= lines.length) hi = mid;
    else lo = mid;
  }
  return greedy(hi);
}

const lines = (parts: string[], x: number, y: number, anchor?: "end") =>
  `<text x="${x}" y="${y}"${anchor ? ` text-anchor="${anchor}"` : ""}>${parts
    .map((p, i) => `<tspan x="${x}"${i ? ` dy="${LINE}"` : ""}>${esc(p)}</tspan>`)
    .join("")}</text>`;

export function ratioChart(rows: ChartRow[], title: string): string {
  const labels = rows.map((r) => wrap(r.label, LABEL_MAX));
  const labelW = Math.ceil(Math.max(0, ...labels.flat().map((l) => textWidth(l, FONT)))) + 2 * PAD;
  // The axis reaches the highest round (a reference beat bare Koa in a slow round), in 0.25s.
  const axisMax = Math.max(1.1, Math.ceil(Math.max(0, ...rows.map((r) => r.ratioMax)) * 4) / 4);
  const x = (r: number) => labelW + (Math.min(Math.max(r, 0), axisMax) * BAR_W) / axisMax;
  const valueW = textWidth("0.000", FONT) + 2 * PAD;
  const titleW = textWidth(title, 15, true) + 2 * PAD;
  const width = Math.ceil(Math.max(labelW + BAR_W + valueW, titleW));
  const top = 48;
  const heights = labels.map((l) => 24 + (l.length - 1) * LINE);
  const bottom = top + heights.reduce((a, b) => a + b, 0);

  const body: string[] = [];
  for (let tick = 0; tick <= axisMax + 1e-9; tick += 0.25) {
    const one = Math.abs(tick - 1) < 1e-9;
    body.push(
      `<line x1="${x(tick)}" y1="${top - 6}" x2="${x(tick)}" y2="${bottom}" stroke="${one ? "#888" : "#ddd"}"/>`,
      `<text x="${x(tick)}" y="${bottom + 16}" text-anchor="middle" fill="#555">${tick}</text>`,
    );
  }
  let y = top;
  rows.forEach((r, i) => {
    const h = heights[i] as number;
    const mid = y + h / 2;
    const barEnd = x(r.ratio);
    const pale = r.rev ? ` fill-opacity="0.45"` : "";
    const rowLines = labels[i] ?? [];
    body.push(
      lines(rowLines, labelW - PAD, mid + 5 - ((rowLines.length - 1) * LINE) / 2, "end"),
      `<rect x="${labelW}" y="${mid - 8}" width="${Math.max(1, barEnd - labelW)}" height="16" fill="${KINDS[r.kind].fill}"${pale}/>`,
      `<path d="M${x(r.ratioMin)} ${mid - 4}v8M${x(r.ratioMin)} ${mid}H${x(r.ratioMax)}M${x(r.ratioMax)} ${mid - 4}v8" stroke="#333" fill="none"/>`,
      `<text x="${Math.max(barEnd, x(r.ratioMax)) + 6}" y="${mid + 5}">${r.ratio.toFixed(3)}</text>`,
    );
    y += h;
  });

  // The legend: the kinds present, then how to read a bar.
  let ly = bottom + 40;
  const textX = 2 * PAD + 18;
  const entry = (swatch: (top: number) => string, text: string) => {
    const wrapped = wrap(text, width - textX - PAD);
    body.push(swatch(ly - 11), lines(wrapped, textX, ly));
    ly += wrapped.length * LINE + 6;
  };
  const square =
    (fill: string, extra = "") =>
    (t: number) =>
      `<rect x="${2 * PAD}" y="${t}" width="12" height="12" fill="${fill}"${extra}/>`;
  for (const k of Object.keys(KINDS) as Variant["group"][])
    if (rows.some((r) => r.kind === k)) entry(square(KINDS[k].fill), KINDS[k].legend);
  for (const rev of new Set(rows.flatMap((r) => (r.rev ? [r.rev] : []))))
    entry(
      square(KINDS.tessera.fill, ` fill-opacity="0.45"`),
      `paler, "@ ${rev}": the same variant at commit ${rev}, measured in the same rounds`,
    );
  entry(
    (t) => `<path d="M${2 * PAD} ${t + 2}v8m0 -4h12m0 -4v8" stroke="#333" fill="none"/>`,
    "bar: median of the rounds; line: lowest to highest round; each round's req/s is divided by bare Koa's in that round",
  );
  const height = ly;
  return `${[
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, sans-serif" font-size="${FONT}">`,
    `<title>${esc(title)}</title>`,
    PATTERN,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${PAD}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
    ...body,
    "</svg>",
  ].join("\n")}\n`;
}
