import type {
  AuthenticationBackend,
  AuthResult,
  SessionDevice,
  Strategy,
  UserManager,
  UserProtocol,
} from "@tessera/core";
import type { Context } from "koa";
import { emitAudit } from "../audit.js";
import { ref, sessionReadSchema } from "../openapi/json-schema.js";
import type { ParameterObject } from "../openapi/types.js";
import { notFound } from "../route/errors.js";
import { type RouteSpec, userRoute } from "../route/spec.js";

/** A session as `GET /users/me/sessions` shows it; fields a strategy does not know are null. */
export interface SessionRead {
  id: string;
  backend: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string;
  ip_address: string | null;
  user_agent: string | null;
  current: boolean;
}

const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;
const NO_SESSION = notFound("No session of the current user with this id.");

type Backends<U extends UserProtocol<ID>, ID> = readonly AuthenticationBackend<U, ID, Context>[];

/** Each backend whose strategy can list its sessions, obtained once per request. */
async function listing<U extends UserProtocol<ID>, ID>(ctx: Context, backends: Backends<U, ID>) {
  const out: { backend: AuthenticationBackend<U, ID, Context>; strategy: Strategy<U, ID> }[] = [];
  for (const backend of backends) {
    const strategy = await backend.getStrategy(ctx);
    if (strategy.sessions || (strategy.listSessions && strategy.destroySession)) {
      out.push({ backend, strategy });
    }
  }
  return out;
}

interface Listed {
  id: string;
  createdAt: Date;
  expiresAt: Date;
  lastUsedAt?: Date | null;
  device?: SessionDevice;
  current: boolean;
}

/**
 * The live sessions of `user` in every listing backend, through the session API where the
 * strategy has one. `auth` marks the current session, when it is `user`'s own.
 */
async function listSessions<U extends UserProtocol<ID>, ID>(
  ctx: Context,
  backends: Backends<U, ID>,
  user: U,
  auth: AuthResult<U, ID, Context> | null,
): Promise<SessionRead[]> {
  // Keyed by session id: backends sharing one store (Bearer and cookie over the same
  // table) list the same sessions, and strategies are often built per request, so neither
  // strategy identity nor backend tells them apart.
  const sessions = new Map<string, SessionRead>();
  const currentHandle = auth?.session?.handle;
  for (const { backend, strategy } of await listing(ctx, backends)) {
    let listed: Listed[];
    if (strategy.sessions) {
      listed = (await strategy.sessions.listUserSessions(user.id)).map((s) => ({
        id: s.handle,
        createdAt: s.createdAt,
        expiresAt: s.expiresAt,
        lastUsedAt: s.lastUsedAt,
        device: s.device,
        current: s.handle === currentHandle,
      }));
    } else {
      const token = auth && backend === auth.backend ? auth.token : null;
      listed = (await strategy.listSessions?.(user, token)) ?? [];
    }
    for (const s of listed) {
      const known = sessions.get(s.id);
      if (known) {
        known.current ||= s.current;
        continue;
      }
      sessions.set(s.id, {
        id: s.id,
        backend: backend.name,
        created_at: s.createdAt.toISOString(),
        last_used_at: s.lastUsedAt ? s.lastUsedAt.toISOString() : null,
        expires_at: s.expiresAt.toISOString(),
        ip_address: s.device?.ipAddress ?? null,
        user_agent: s.device?.userAgent ?? null,
        current: s.current,
      });
    }
  }
  ctx.set("Cache-Control", "no-store");
  return [...sessions.values()];
}

/** Ends session `id` of `user` in the first backend that holds it; false when none does. */
async function endSession<U extends UserProtocol<ID>, ID>(
  ctx: Context,
  backends: Backends<U, ID>,
  user: U,
  id: string,
): Promise<boolean> {
  if (!SESSION_ID.test(id)) return false;
  for (const { strategy } of await listing(ctx, backends)) {
    const ended = strategy.sessions
      ? await strategy.sessions.invalidateSession(user.id, id)
      : await strategy.destroySession?.(user, id);
    if (ended) return true;
  }
  return false;
}

const sessionIdParameter = (description: string) =>
  ({
    name: "sessionId",
    in: "path",
    required: true,
    description,
    schema: { type: "string" },
  }) as const;

const listResponse = (description: string) =>
  ({ status: 200, description, body: { type: "array", items: ref("SessionRead") } }) as const;

/**
 * `GET /me/sessions` and `DELETE /me/sessions/{sessionId}` of a users router, and for
 * superusers `GET /{id}/sessions` and `DELETE /{id}/sessions/{sessionId}`: the live sessions
 * in every backend whose strategy can enumerate them (database, Redis).
 */
export function sessionRoutes<U extends UserProtocol<ID>, ID>(
  verified: boolean,
  backends: Backends<U, ID>,
  target: (
    ctx: Context,
    userManager: UserManager<U, ID>,
    fail: (code: string) => never,
  ) => Promise<U>,
  idParameter: ParameterObject,
  noUser: { status: number; code: string; summary: string },
): RouteSpec<U, ID>[] {
  const me = { who: "user", verified, tags: ["users"] } as const;
  const superuser = { who: "superuser", verified, tags: ["users"] } as const;
  const noUserSession = notFound("No such user, or no session of the user with this id.");
  return [
    userRoute<U, ID>({
      ...me,
      method: "get",
      path: "/me/sessions",
      operationId: "users:current_user_sessions",
      summary: "The current user's sessions",
      response: listResponse("Live sessions in every backend that can list them"),
      components: { SessionRead: sessionReadSchema },
      links: {
        DeleteSession: {
          operationId: "users:delete_current_user_session",
          parameters: { sessionId: "$response.body#/0/id" },
          description: "End the first session listed",
        },
      },
      async handler(ctx, { auth }) {
        return listSessions(ctx, backends, auth.user, auth);
      },
    }),
    userRoute<U, ID>({
      ...me,
      method: "delete",
      path: "/me/sessions/:sessionId",
      operationId: "users:delete_current_user_session",
      summary: "End one of the current user's sessions",
      parameters: [
        sessionIdParameter("A session id from `GET /me/sessions`; any other answers 404"),
      ],
      response: { status: 204, description: "The session is ended" },
      errors: [NO_SESSION],
      async handler(ctx, { auth, fail }) {
        const id = String(ctx.params.sessionId ?? "");
        if (!(await endSession(ctx, backends, auth.user, id))) return fail(NO_SESSION.code);
        emitAudit(ctx, {
          type: "session_revoked",
          reason: "session_ended",
          scope: "one",
          sessionId: id,
        });
        return undefined;
      },
    }),
    userRoute<U, ID>({
      ...superuser,
      method: "get",
      path: "/:id/sessions",
      operationId: "users:user_sessions",
      summary: "A user's sessions (superuser)",
      parameters: [idParameter],
      response: listResponse("The user's live sessions in every backend that can list them"),
      components: { SessionRead: sessionReadSchema },
      links: {
        DeleteUserSession: {
          operationId: "users:delete_user_session",
          parameters: { id: "$request.path.id", sessionId: "$response.body#/0/id" },
          description: "End the first session listed",
        },
      },
      errors: [noUser],
      async handler(ctx, { auth, userManager, fail }) {
        const user = await target(ctx, userManager, fail);
        const own = String(user.id) === String(auth.user.id);
        return listSessions(ctx, backends, user, own ? auth : null);
      },
    }),
    userRoute<U, ID>({
      ...superuser,
      method: "delete",
      path: "/:id/sessions/:sessionId",
      operationId: "users:delete_user_session",
      summary: "End one of a user's sessions (superuser)",
      parameters: [
        idParameter,
        sessionIdParameter("A session id from `GET /{id}/sessions`; any other answers 404"),
      ],
      response: { status: 204, description: "The session is ended" },
      errors: [noUserSession],
      async handler(ctx, { userManager, fail }) {
        const user = await target(ctx, userManager, () => fail(noUserSession.code));
        const id = String(ctx.params.sessionId ?? "");
        const ended = await endSession(ctx, backends, user, id);
        if (!ended) return fail(noUserSession.code);
        // The user whose session ended; the superuser who ended it is in the access log.
        emitAudit(ctx, {
          type: "session_revoked",
          reason: "session_ended_by_superuser",
          scope: "one",
          sessionId: id,
          userId: String(user.id),
          email: user.email,
        });
        return undefined;
      },
    }),
  ];
}
