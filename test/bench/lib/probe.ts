// Usage: node probe.ts <url> <tokensFile> <ratePerSecond> <seconds>
// An open-loop prober: sends requests on a fixed schedule whatever the answers take, and
// measures each latency from its scheduled start (no coordinated omission), so a stalled
// event loop shows in the percentiles. Prints one JSON line.
import { readFileSync } from "node:fs";
import http from "node:http";

const [url, tokensFile, rateArg, secondsArg] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const lines = readFileSync(tokensFile as string, "utf8")
  .trim()
  .split("\n");
const headers = lines.map((l) => {
  const i = l.indexOf(":");
  return { [l.slice(0, i)]: l.slice(i + 1).trim() };
});
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const target = new URL(url as string);
const latencies: number[] = [];
let errors = 0;
const start = performance.now();
const total = Math.round(rate * seconds);
let pending = 0;

function send(scheduled: number): void {
  pending++;
  const req = http.request(
    {
      host: target.hostname,
      port: target.port,
      path: target.pathname,
      agent,
      headers: headers[Math.floor(Math.random() * headers.length)],
    },
    (res) => {
      res.resume();
      res.on("end", () => {
        if (res.statusCode !== 200) errors++;
        latencies.push(performance.now() - scheduled);
        if (--pending === 0 && latencies.length + errors >= total) finish();
      });
    },
  );
  req.on("error", () => {
    errors++;
    if (--pending === 0) finish();
  });
  req.end();
}

let sent = 0;
function tick(): void {
  const now = performance.now();
  while (sent < total && start + (sent * 1000) / rate <= now) {
    send(start + (sent * 1000) / rate);
    sent++;
  }
  if (sent < total) setTimeout(tick, 1);
}
tick();

let finished = false;
function finish(): void {
  if (finished || sent < total) return;
  finished = true;
  latencies.sort((a, b) => a - b);
  const q = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  console.log(
    `PROBE_JSON ${JSON.stringify({ count: latencies.length, errors, p50Ms: q(0.5), p99Ms: q(0.99), maxMs: q(1) })}`,
  );
  agent.destroy();
}
