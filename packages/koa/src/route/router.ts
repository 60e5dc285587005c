import { type Layer, Router } from "@koa/router";
import type { Context, Middleware } from "koa";
import { HttpError, raise } from "../http-error.js";

// RFC 9110's methods and QUERY (the safe method with a body): asked of a Tessera path,
// each is a 405, a client's mistake; only a method HTTP does not define is a 501.
const KNOWN_METHODS = [
  "HEAD",
  "OPTIONS",
  "GET",
  "PUT",
  "PATCH",
  "POST",
  "DELETE",
  "TRACE",
  "QUERY",
];

/**
 * True when a route of `router` with fewer path parameters than `layer` matched this
 * request's path: a static segment beats a parameter whatever the method, so `/users/me`
 * is never the user whose id is "me" (`DELETE /users/me` is a 405, not a lookup of "me").
 */
export function shadowed(ctx: Context, layer: Layer, router: Router): boolean {
  if (layer.paramNames.length === 0) return false;
  return (ctx.matched ?? []).some(
    (other: Layer) =>
      other.methods.length > 0 &&
      other.paramNames.length < layer.paramNames.length &&
      router.stack.includes(other),
  );
}

/**
 * A @koa/router `Router` whose `routes()` also does what `allowedMethods()` does: a path
 * of this router asked with a method it does not serve answers `405` with `Allow`, a
 * method HTTP does not define `501`, `OPTIONS` `200` with `Allow`. The errors are thrown
 * through the app's middleware and render as FastAPI Users' JSON (`{"detail": "Method Not
 * Allowed"}`, Starlette's). An app that mounts only `.routes()`, as most do, gets this.
 */
export class TesseraRouter extends Router {
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
      // The path's own routes: the most specific ones (see shadowed).
      const fewest = Math.min(...own.map((layer: Layer) => layer.paramNames.length));
      const routes = own.filter((layer: Layer) => layer.paramNames.length === fewest);
      const allow = [...new Set(routes.flatMap((layer: Layer) => layer.methods))].join(", ");
      if (!KNOWN_METHODS.includes(ctx.method)) raise(ctx, new HttpError(501, "Not Implemented"));
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
