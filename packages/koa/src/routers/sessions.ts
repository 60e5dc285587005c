import type { Router } from "@koa/router";
import type { AuthResult, UserProtocol } from "@tessera/core";
import type { Context } from "koa";
import { handle } from "../context.js";
import { HttpError } from "../http-error.js";
import type { RouterDeps } from "./deps.js";

/** A session as `GET /users/me/sessions` shows it. */
export interface SessionRead {
  id: string;
  backend: string;
  created_at: string;
  expires_at: string;
  current: boolean;
}

/**
 * Adds `GET /me/sessions` and `DELETE /me/sessions/{id}` to a users router: the user's
 * live sessions in every backend whose strategy can enumerate them (database, Redis).
 */
export function addSessionRoutes<U extends UserProtocol<ID>, ID>(
  router: Router,
  deps: RouterDeps<U, ID>,
  verified: boolean,
): void {
  async function current(ctx: Context): Promise<AuthResult<U, ID, Context>> {
    const { result } = await deps.authenticate(ctx, { active: true, verified });
    if (!result) throw new HttpError(401, "Unauthorized");
    return result;
  }

  /** Each backend with a listing strategy, its strategy obtained once per request. */
  async function listing(ctx: Context) {
    const out = [];
    for (const backend of deps.authenticator.backends) {
      const strategy = await backend.getStrategy(ctx);
      if (strategy.listSessions && strategy.destroySession) out.push({ backend, strategy });
    }
    return out;
  }

  router.get(
    "/me/sessions",
    handle(async (ctx) => {
      const auth = await current(ctx);
      // Keyed by session id: backends sharing one store (Bearer and cookie over the same
      // table) list the same sessions, and strategies are often built per request, so
      // neither strategy identity nor backend tells them apart.
      const sessions = new Map<string, SessionRead>();
      for (const { backend, strategy } of await listing(ctx)) {
        const token = backend === auth.backend ? auth.token : null;
        for (const s of (await strategy.listSessions?.(auth.user, token)) ?? []) {
          const known = sessions.get(s.id);
          if (known) {
            known.current ||= s.current;
            continue;
          }
          sessions.set(s.id, {
            id: s.id,
            backend: backend.name,
            created_at: s.createdAt.toISOString(),
            expires_at: s.expiresAt.toISOString(),
            current: s.current,
          });
        }
      }
      ctx.set("Cache-Control", "no-store");
      ctx.body = [...sessions.values()];
    }),
  );

  router.delete(
    "/me/sessions/:sessionId",
    handle(async (ctx) => {
      const auth = await current(ctx);
      const id = String(ctx.params.sessionId ?? "");
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new HttpError(404, "Not Found");
      for (const { strategy } of await listing(ctx)) {
        if (await strategy.destroySession?.(auth.user, id)) {
          ctx.status = 204;
          return;
        }
      }
      throw new HttpError(404, "Not Found");
    }),
  );
}
