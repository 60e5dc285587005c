import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Middleware } from "koa";
import type { Logger as Pino } from "pino";
import { pinoHttp } from "pino-http";

// Query parameters whose values are secrets or single-use codes: an OAuth callback's `code`
// and `state`, a verification or reset link's `token`, and anything named like one.
const SECRET_PARAMETER = /token|code|state|secret|password|key|ticket|session|sig/i;

/** `url` with the values of secret-looking query parameters replaced (`?code=[Redacted]`). */
export function redactUrl(url: string): string {
  const at = url.indexOf("?");
  if (at < 0) return url;
  const params = new URLSearchParams(url.slice(at + 1));
  for (const [name] of params) {
    if (SECRET_PARAMETER.test(name)) params.set(name, "[Redacted]");
  }
  const query = params.toString().replaceAll("%5BRedacted%5D", "[Redacted]");
  return `${url.slice(0, at)}${query ? `?${query}` : ""}`;
}

// A request id the client sent is kept when it is a plain token (a proxy's), else made.
const REQUEST_ID = /^[\w.:-]{1,64}$/;
const USER_ID = Symbol("koa-app.userId");

type Request = IncomingMessage & { [USER_ID]?: string };

/**
 * The access log: one JSON line per request when its answer is sent (pino-http), with the
 * method, the URL without query secrets, the status, `responseTime` in ms, the request id
 * (`reqId`: the `x-request-id` a proxy sent, else a UUID) and `userId` when a user was
 * authenticated. `Authorization`, `Cookie`, `x-csrf-token` and `Set-Cookie` are redacted by
 * the logger (`REDACTED_PATHS`). Mount it first; `ctx.req.log` is then the request's logger
 * (audit lines use it, so they carry the same `reqId`).
 */
export function accessLog(logger: Pino): Middleware {
  const http = pinoHttp({
    logger,
    quietReqLogger: true,
    genReqId: (req: IncomingMessage) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    serializers: {
      req: (req: {
        id: unknown;
        method: string;
        url: string;
        headers: unknown;
        remoteAddress: string;
      }) => ({
        id: req.id,
        method: req.method,
        url: redactUrl(req.url),
        headers: req.headers,
        remoteAddress: req.remoteAddress,
      }),
    },
    // Bound when the answer is sent, once the routes have authenticated the user.
    customProps: (req: IncomingMessage) => {
      const userId = (req as Request)[USER_ID];
      return userId === undefined ? {} : { userId };
    },
    customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) =>
      error || res.statusCode >= 500 ? "error" : "info",
    customSuccessMessage: (req: IncomingMessage, res: ServerResponse) =>
      `${req.method} ${redactUrl(req.url ?? "")} ${res.statusCode}`,
  });
  return async (ctx, next) => {
    http(ctx.req, ctx.res);
    try {
      await next();
    } finally {
      const user = (ctx.state as { user?: { id?: unknown } | null }).user;
      if (user?.id !== undefined) (ctx.req as Request)[USER_ID] = String(user.id);
    }
  };
}
