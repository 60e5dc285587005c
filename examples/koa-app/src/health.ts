import { Router } from "@koa/router";
import type { Logger } from "./logger.js";

/** How long `GET /healthz` waits for each check before counting it as failed. */
export const HEALTH_TIMEOUT_MS = 1000;

/** A named readiness check: resolves when the service answers. */
export interface HealthCheck {
  name: string;
  ping(): Promise<unknown>;
}

/** What `GET /healthz` answers. */
export type HealthBody = { status: "ok" } | { status: "unavailable"; failed: string[] };

/**
 * Runs every check at once, each given `timeoutMs`, and names the ones that rejected or
 * did not answer in time.
 */
export async function runHealthChecks(
  checks: readonly HealthCheck[],
  timeoutMs: number = HEALTH_TIMEOUT_MS,
  log?: Pick<Logger, "warn">,
): Promise<HealthBody> {
  const results = await Promise.all(
    checks.map(async ({ name, ping }) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([ping(), late]);
        return undefined;
      } catch (error) {
        log?.warn(`healthz: ${name} failed:`, (error as Error)?.message ?? error);
        return name;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const failed = results.filter((name): name is string => name !== undefined);
  return failed.length === 0 ? { status: "ok" } : { status: "unavailable", failed };
}

/**
 * `GET /healthz`, the readiness route of a load balancer: `200 {"status":"ok"}` when every
 * check (the database, and Redis when configured) answers a ping within
 * {@link HEALTH_TIMEOUT_MS}, else `503 {"status":"unavailable","failed":["redis"]}`. Always
 * `Cache-Control: no-store`. No authentication and no rate limit (it reads no user data and
 * costs one round trip per service); not in the OpenAPI document, which describes the auth
 * API. Liveness needs no store: any cheap route, e.g. `/.well-known/jwks.json`.
 */
export function healthRouter(
  checks: readonly HealthCheck[],
  options: { timeoutMs?: number; log?: Pick<Logger, "warn"> } = {},
): Router {
  const router = new Router();
  router.get("/healthz", async (ctx) => {
    const body = await runHealthChecks(checks, options.timeoutMs, options.log);
    ctx.set("Cache-Control", "no-store");
    ctx.status = body.status === "ok" ? 200 : 503;
    ctx.body = body;
  });
  return router;
}
