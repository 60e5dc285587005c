// Usage: node logins.ts <loginUrl> <emailsFile> <password> <concurrency> <seconds>
// Keeps <concurrency> password logins in flight for <seconds>; prints one JSON line.
import { readFileSync } from "node:fs";

const [url, emailsFile, password, concurrencyArg, secondsArg] = process.argv.slice(2);
const emails = readFileSync(emailsFile as string, "utf8")
  .trim()
  .split("\n");
const deadline = performance.now() + Number(secondsArg) * 1000;
const latencies: number[] = [];
let failures = 0;

async function loop(): Promise<void> {
  while (performance.now() < deadline) {
    const email = emails[Math.floor(Math.random() * emails.length)] as string;
    const started = performance.now();
    try {
      const res = await fetch(url as string, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ username: email, password: password as string }),
      });
      await res.arrayBuffer();
      if (res.status === 200) latencies.push(performance.now() - started);
      else failures++;
    } catch {
      failures++;
    }
  }
}

await Promise.all(Array.from({ length: Number(concurrencyArg) }, loop));
latencies.sort((a, b) => a - b);
const q = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
console.log(
  `LOGINS_JSON ${JSON.stringify({ logins: latencies.length, failures, perSecond: latencies.length / Number(secondsArg), p50Ms: q(0.5), p99Ms: q(0.99) })}`,
);
