// Usage: node refreshes.ts <baseUrl> <emailsFile> <password> <chains> <warmupSeconds> <seconds>
// The refresh-rate client: <chains> password logins at `${baseUrl}/login` (not measured),
// then each chain refreshes its own session at `${baseUrl}/refresh` (RFC 6749 §6 form), one
// request at a time, each sending the refresh token the previous answer returned: every
// request is a real rotation. Chains run in parallel over keep-alive connections.
// After <warmupSeconds> it prints REFRESH_MEASURE_START, after <seconds> more
// REFRESH_MEASURE_END, then one JSON line (refreshes completed in between, their latency from
// send to answer: closed loop, each chain waits for its answer before the next request).
import { readFileSync } from "node:fs";
import http from "node:http";

const [baseUrl, emailsFile, password, chainsArg, warmupArg, secondsArg] = process.argv.slice(2);
const chains = Number(chainsArg);
const base = new URL(baseUrl as string);
const emails = readFileSync(emailsFile as string, "utf8")
  .trim()
  .split("\n");
const agent = new http.Agent({ keepAlive: true, maxSockets: chains });

interface Pair {
  access_token: string;
  token_type: string;
  refresh_token: string;
  expires_in: number;
}

/** POSTs a form; the status and the parsed body (null when it is not JSON). */
function post(
  path: string,
  form: Record<string, string>,
): Promise<{ status: number; body: unknown }> {
  const payload = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        path: `${base.pathname}${path}`,
        method: "POST",
        agent,
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "content-length": Buffer.byteLength(payload),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => {
          text += d;
        });
        res.on("end", () => {
          let body: unknown = null;
          try {
            body = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** The pair of a 200 answer in RFC 6749 §5.1 shape, or null. */
function pairOf(reply: { status: number; body: unknown }): Pair | null {
  const p = reply.body as Partial<Pair> | null;
  return reply.status === 200 &&
    typeof p?.access_token === "string" &&
    typeof p.refresh_token === "string" &&
    p.token_type === "bearer" &&
    typeof p.expires_in === "number"
    ? (p as Pair)
    : null;
}

// The logins: a few at a time (argon2id hashing), each chain's first pair.
const firsts: string[] = new Array(chains);
let loginFailures = 0;
let next = 0;
await Promise.all(
  Array.from({ length: Math.min(8, chains) }, async () => {
    while (next < chains) {
      const i = next++;
      const reply = await post("/login", {
        username: emails[i % emails.length] as string,
        password: password as string,
      });
      const pair = pairOf(reply);
      if (!pair) {
        loginFailures++;
        throw new Error(`login ${i}: ${reply.status} ${JSON.stringify(reply.body)}`);
      }
      firsts[i] = pair.refresh_token;
    }
  }),
);

const started = performance.now();
const measureFrom = started + Number(warmupArg) * 1000;
const measureTo = measureFrom + Number(secondsArg) * 1000;
setTimeout(() => console.log("REFRESH_MEASURE_START"), measureFrom - started);
setTimeout(() => console.log("REFRESH_MEASURE_END"), measureTo - started);
const latencies: number[] = [];
let failures = 0;
let deadChains = 0;
let notRotated = 0;
const details = new Map<string, number>();

async function chain(first: string): Promise<void> {
  let token = first;
  while (performance.now() < measureTo) {
    const sent = performance.now();
    let reply: { status: number; body: unknown };
    try {
      reply = await post("/refresh", { grant_type: "refresh_token", refresh_token: token });
    } catch {
      failures++;
      continue;
    }
    const done = performance.now();
    const pair = pairOf(reply);
    if (pair === null) {
      failures++;
      const detail = `${reply.status} ${(reply.body as { detail?: unknown } | null)?.detail ?? ""}`;
      details.set(detail, (details.get(detail) ?? 0) + 1);
      // A 401 ends the session (invalid, reused): this chain is over. Anything else (503 in an
      // outage) retries the same token, which the rotation rule allows.
      if (reply.status === 401) {
        deadChains++;
        return;
      }
      continue;
    }
    // A rotation answers a new refresh token; the same one back would be no rotation at all.
    if (pair.refresh_token === token) notRotated++;
    token = pair.refresh_token;
    // Counted when it completes inside the measured window (as wrk counts).
    if (done >= measureFrom && done <= measureTo) latencies.push(done - sent);
  }
}

await Promise.all(firsts.map(chain));
agent.destroy();
latencies.sort((a, b) => a - b);
const q = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
console.log(
  `REFRESH_JSON ${JSON.stringify({
    chains,
    refreshes: latencies.length,
    perSecond: latencies.length / Number(secondsArg),
    p50Ms: q(0.5),
    p90Ms: q(0.9),
    p99Ms: q(0.99),
    maxMs: q(1),
    failures: failures + notRotated,
    deadChains,
    loginFailures,
    details: Object.fromEntries(details),
  })}`,
);
