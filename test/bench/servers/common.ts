// What every Node benchmark server shares: `GET /me` answering `{"id": …}`, listening on
// 127.0.0.1:$PORT, "ready" on stdout once it serves, and memory figures over the IPC
// channel (so measuring memory adds nothing to the HTTP path being measured).
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Router } from "@koa/router";
import type Koa from "koa";
import type { Middleware } from "koa";
import { env } from "../lib/shared.ts";

/** A router with `GET /me` behind `auth`; `id` reads the authenticated user's id. */
export function meRouter(auth: Middleware[], id: (ctx: Koa.Context) => unknown): Router {
  const router = new Router();
  router.get("/me", ...auth, (ctx) => {
    ctx.body = { id: id(ctx as unknown as Koa.Context) };
  });
  return router;
}

export function serve(app: Koa): void {
  const server = app.listen(Number(env("PORT")), "127.0.0.1", () => {
    console.log("ready");
  });
  // As Koa apps are usually deployed: keep-alive, no per-request timeout fiddling.
  server.keepAliveTimeout = 65_000;
  // BENCH_LOOP_DELAY=1 (the login benchmark): the event loop's delay, sampled every
  // millisecond, reported and reset on request. Off elsewhere: the sampling timer costs CPU.
  const loopDelay = process.env.BENCH_LOOP_DELAY ? monitorEventLoopDelay({ resolution: 1 }) : null;
  loopDelay?.enable();
  process.on("message", (message) => {
    if (message === "loop-delay") {
      const ms = (ns: number) => ns / 1e6;
      process.send?.({
        loopDelay: loopDelay
          ? {
              p50Ms: ms(loopDelay.percentile(50)),
              p99Ms: ms(loopDelay.percentile(99)),
              maxMs: ms(loopDelay.max),
            }
          : null,
      });
      loopDelay?.reset();
      return;
    }
    if (message !== "memory") return;
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    process.send?.({ memory: process.memoryUsage() });
  });
  process.on("SIGTERM", () => process.exit(0));
}
