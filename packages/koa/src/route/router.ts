import { type Layer, Router, type RouterOptions } from "@koa/router";
import type { Context, Middleware } from "koa";
import { HttpError, raise } from "../http-error.js";

const KNOWN_METHODS = ["HEAD", "OPTIONS", "GET", "PUT", "PATCH", "POST", "DELETE", "TRACE"];

/**
 * A @koa/router `Router` whose `routes()` also does what `allowedMethods()` does: a path
 * of this router asked with a method it does not serve answers `405` with `Allow`, a
 * method HTTP does not define `501`, `OPTIONS` `200` with `Allow`. The errors are thrown
 * through the app's middleware and render as FastAPI Users' JSON (`{"detail": "Method Not
 * Allowed"}`, Starlette's). An app that mounts only `.routes()`, as most do, gets this.
 */
export class TesseraRouter extends Router {
  /** @koa/router's methods, and TRACE: a method of RFC 9110 is known, so it gets a 405. */
  constructor(options: RouterOptions = {}) {
    super({ methods: KNOWN_METHODS, ...options });
  }

  override routes(): Middleware & { router: Router } {
    const dispatch = super.routes() as Middleware;
    const middleware = (async (ctx: Context, next: () => Promise<unknown>) => {
      await dispatch(ctx, next);
      // Answered by a route, or by the app's own middleware further down.
      if (ctx.status !== 404 || ctx.body != null) return;
      const own = (ctx.matched ?? []).filter(
        (layer: Layer) => layer.methods.length > 0 && this.stack.includes(layer),
      );
      if (own.length === 0) return;
      const allow = [...new Set(own.flatMap((layer: Layer) => layer.methods))].join(", ");
      if (!this.methods.includes(ctx.method)) raise(ctx, new HttpError(501, "Not Implemented"));
      if (ctx.method === "OPTIONS") {
        ctx.status = 200;
        ctx.body = "";
        ctx.set("Allow", allow);
        return;
      }
      raise(ctx, new HttpError(405, "Method Not Allowed", { Allow: allow }));
    }) as Middleware & { router: Router };
    // Nesting (`parent.use(child.routes())`) finds the router here, as on @koa/router's own.
    middleware.router = this;
    return middleware;
  }
}
