// What every Node benchmark server shares: `GET /me` answering `{"id": …}`, listening on
// 127.0.0.1:$PORT, "ready" on stdout once it serves, and memory figures over the IPC
// channel (so measuring memory adds nothing to the HTTP path being measured).
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
  process.on("message", (message) => {
    if (message !== "memory") return;
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    process.send?.({ memory: process.memoryUsage() });
  });
  process.on("SIGTERM", () => process.exit(0));
}
