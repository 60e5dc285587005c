// Fuzzing (fuzz.test.ts): the property. Batches of generated requests go to the target over
// keep-alive connections; never a 5xx, never a stack trace, never a hang.
import fc from "fast-check";
import { expect } from "vitest";
import type { Outgoing, Reply } from "../../support/client.js";
import { pool } from "../support.js";
import { request } from "./requests.js";
import { CONCURRENCY, type FuzzTarget } from "./target.js";

/** Requests per batch: one fast-check run. */
export const BATCH = 50;

/** The test app's rate-limited routes. */
export const ROUTES = [
  "login",
  "register",
  "forgotPassword",
  "requestVerifyToken",
  "resetPassword",
];

/**
 * Sends `runs` batches of generated requests and checks every answer. With `upkeep`, the
 * identities whose tokens the requests use are kept alive between batches.
 */
export async function fuzz(
  target: FuzzTarget,
  runs: number,
  upkeep: boolean,
): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  const succeeded = new Map<string, number>();
  let sent = 0;
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(fc.array(request, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
      const resolved = batch.map((req) => target.resolve(req));
      const answers = await pool(resolved.length, CONCURRENCY, (i) =>
        target.client.send(resolved[i] as Outgoing, 10_000).catch(
          (error: Error): Reply => ({
            status: -1,
            headers: new Headers(),
            text: error.message,
            body: undefined,
            ms: 0,
          }),
        ),
      );
      sent += answers.length;
      const bad: string[] = [];
      answers.forEach((answer, i) => {
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        const req = resolved[i] as Outgoing & { method: string };
        if (answer.status < 300) {
          const key = `${req.method} ${req.path.replace(/\/users\/(?!me\b)[^/?]+/, "/users/{id}").replace(/sessions\/.*/, "sessions/{id}")}`;
          succeeded.set(key, (succeeded.get(key) ?? 0) + 1);
        }
        const leak = /\bat \S+ \(|node_modules|\.ts:\d+/.test(answer.text);
        if (answer.status >= 500 || answer.status < 100 || leak) {
          bad.push(
            `${answer.status} ${req.method} ${req.path} headers=${JSON.stringify(req.headers)} ` +
              `body=${JSON.stringify(String(req.body ?? "").slice(0, 300))} -> ${answer.text.slice(0, 300)}`,
          );
        }
      });
      if (target.errors.length > 0) {
        bad.push(`app error events: ${target.errors.map(String).join("; ")}`);
      }
      if (bad.length > 0) throw new Error(`${bad.length} bad answers:\n${bad.join("\n")}`);
      if (upkeep) await target.ensureIdentities();
    }),
    { numRuns: runs, endOnFailure: true },
  );
  const seconds = (performance.now() - started) / 1000;
  const summary = [...statuses.entries()]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s}: ${n}`)
    .join(", ");
  console.log(
    `fuzz: ${sent} requests in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)}/s); statuses ${summary}` +
      (upkeep ? `; identities remade ${target.remade} times, ${target.relogins} logins again` : ""),
  );
  console.log(
    `fuzz: 2xx by route: ${[...succeeded.entries()]
      .sort()
      .map(([k, n]) => `${k} ${n}`)
      .join(", ")}`,
  );
  expect(sent).toBe(runs * BATCH);
  expect([...statuses.keys()].filter((s) => s >= 500 || s < 100)).toEqual([]);
  return statuses;
}
