// The memory soak: a variant warmed up, then loaded until it has answered the target number
// of requests (or the time cap passed), its RSS and V8 heap after a full GC read before,
// every 30 seconds, and after.
import { log } from "./log.ts";
import type { MemoryResult } from "./report.ts";
import { type ServerEnvironment, startServer } from "./server-process.ts";
import type { Variant } from "./variants.ts";
import { runWrk } from "./wrk.ts";

export interface SoakSettings {
  /** Requests to serve. */
  requests: number;
  /** Caps the soak, seconds (0: no cap); the table then shows how many were served. */
  secondsMax: number;
  threads: number;
  connections: number;
}

export async function memorySoak(
  variant: Variant,
  env: ServerEnvironment,
  pool: string,
  settings: SoakSettings,
): Promise<MemoryResult> {
  const server = await startServer(variant, env);
  const mb = (n: number) => n / 2 ** 20;
  try {
    const common = {
      url: server.url,
      tokensFile: pool,
      threads: settings.threads,
      connections: settings.connections,
    };
    await runWrk({ ...common, seconds: 5 });
    const heapBefore = await server.heap();
    const rssBefore = server.rss();
    let requests = 0;
    // RSS after every 30-second chunk, to tell a plateau (allocator and V8 keeping pages)
    // from a steady climb.
    const samples: number[] = [];
    const usageSamples: NonNullable<MemoryResult["usageSamplesMb"]> = [];
    const cap = settings.secondsMax > 0 ? Date.now() + settings.secondsMax * 1000 : Infinity;
    while (requests < settings.requests && Date.now() < cap) {
      const r = await runWrk({ ...common, seconds: 30 });
      if (r.errors > 0)
        throw new Error(`${variant.name}: ${r.errors} errors during the memory soak`);
      requests += r.requests;
      samples.push(Math.round(mb(server.rss()) * 10) / 10);
      // Where the resident memory is, after a full GC: V8's heap (reserved and used), and
      // what lives outside it (Buffers and other external memory). RSS growing while these
      // stay is native memory (the allocator, drivers' own buffers).
      const usage = await server.heap();
      if (usage) {
        const r1 = (n: number) => Math.round(mb(n) * 10) / 10;
        usageSamples.push({
          heapTotal: r1(usage.heapTotal),
          heapUsed: r1(usage.heapUsed),
          external: r1(usage.external),
          arrayBuffers: r1(usage.arrayBuffers),
        });
        log(
          `memory ${variant.name}: ${requests} requests, RSS ${samples.at(-1)} MB, V8 heap ${r1(usage.heapUsed)} used of ${r1(usage.heapTotal)}, external ${r1(usage.external)} (array buffers ${r1(usage.arrayBuffers)}) MB`,
        );
      }
    }
    const heapAfter = await server.heap();
    return {
      variant: variant.name,
      requests,
      rssBeforeMb: mb(rssBefore),
      rssAfterMb: mb(server.rss()),
      heapBeforeMb: heapBefore ? mb(heapBefore.heapUsed) : null,
      heapAfterMb: heapAfter ? mb(heapAfter.heapUsed) : null,
      rssSamplesMb: samples,
      usageSamplesMb: usageSamples,
    };
  } finally {
    await server.stop();
  }
}
