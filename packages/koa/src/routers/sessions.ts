import type { AuthenticationBackend, UserProtocol } from "@tessera/core";
import type { Context } from "koa";
import { ref, sessionReadSchema } from "../openapi/json-schema.js";
import { notFound } from "../route/errors.js";
import { type RouteSpec, userRoute } from "../route/spec.js";

/** A session as `GET /users/me/sessions` shows it. */
export interface SessionRead {
  id: string;
  backend: string;
  created_at: string;
  expires_at: string;
  current: boolean;
}

const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;
const NO_SESSION = notFound("No session of the current user with this id.");

type Backends<U extends UserProtocol<ID>, ID> = readonly AuthenticationBackend<U, ID, Context>[];

/** Each backend with a listing strategy, its strategy obtained once per request. */
async function listing<U extends UserProtocol<ID>, ID>(ctx: Context, backends: Backends<U, ID>) {
  const out = [];
  for (const backend of backends) {
    const strategy = await backend.getStrategy(ctx);
    if (strategy.listSessions && strategy.destroySession) out.push({ backend, strategy });
  }
  return out;
}

/**
 * `GET /me/sessions` and `DELETE /me/sessions/{sessionId}` of a users router: the user's
 * live sessions in every backend whose strategy can enumerate them (database, Redis).
 */
export function sessionRoutes<U extends UserProtocol<ID>, ID>(
  verified: boolean,
  backends: Backends<U, ID>,
): RouteSpec<U, ID>[] {
  const me = { who: "user", verified, tags: ["users"] } as const;
  return [
    userRoute<U, ID>({
      ...me,
      method: "get",
      path: "/me/sessions",
      operationId: "users:current_user_sessions",
      summary: "The current user's sessions",
      response: {
        status: 200,
        description: "Live sessions in every backend that can list them",
        body: { type: "array", items: ref("SessionRead") },
      },
      components: { SessionRead: sessionReadSchema },
      links: {
        DeleteSession: {
          operationId: "users:delete_current_user_session",
          parameters: { sessionId: "$response.body#/0/id" },
          description: "End the first session listed",
        },
      },
      async handler(ctx, { auth }) {
        // Keyed by session id: backends sharing one store (Bearer and cookie over the
        // same table) list the same sessions, and strategies are often built per request,
        // so neither strategy identity nor backend tells them apart.
        const sessions = new Map<string, SessionRead>();
        for (const { backend, strategy } of await listing(ctx, backends)) {
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
        return [...sessions.values()];
      },
    }),
    userRoute<U, ID>({
      ...me,
      method: "delete",
      path: "/me/sessions/:sessionId",
      operationId: "users:delete_current_user_session",
      summary: "End one of the current user's sessions",
      parameters: [
        {
          name: "sessionId",
          in: "path",
          required: true,
          description: "A session id from `GET /me/sessions`; any other answers 404",
          schema: { type: "string" },
        },
      ],
      response: { status: 204, description: "The session is ended" },
      errors: [NO_SESSION],
      async handler(ctx, { auth, fail }) {
        const id = String(ctx.params.sessionId ?? "");
        if (!SESSION_ID.test(id)) return fail(NO_SESSION.code);
        for (const { strategy } of await listing(ctx, backends)) {
          if (await strategy.destroySession?.(auth.user, id)) return undefined;
        }
        return fail(NO_SESSION.code);
      },
    }),
  ];
}
