import { ErrorCode, type SecurityEvent, type UserManager, type UserProtocol } from "@tessera/core";
import type { Context } from "koa";
import { z } from "zod";
import { HttpErrorCode } from "../error-codes.js";
import type { RouterOptions } from "../route/deps.js";
import { notFound } from "../route/errors.js";
import { publicRoute, type RouteError, type RouteSpec, userRoute } from "../route/spec.js";
import { currentOf, type StartSession } from "./mfa.js";

/** A passkey as `@tessera/passkeys` lists it. */
export interface PasskeySummaryLike {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  backedUp: boolean;
}

/** Who hears of a passkey added or removed (a `UserManager`, with the current session kept). */
export interface PasskeyEventSinkLike<U> {
  onSecurityEvent(user: U, event: SecurityEvent, context?: unknown): Promise<void> | void;
}

/**
 * What the passkey routes need of `@tessera/passkeys`' `PasskeyService`. Described by shape,
 * so `@tessera/koa` loads nothing of `@tessera/passkeys` (an optional peer).
 */
export interface PasskeyServiceLike<ID> {
  registrationOptions(user: {
    id: ID;
    email: string;
  }): Promise<{ challengeId: string; options: unknown }>;
  verifyRegistration<U extends { id: ID; email: string }>(
    user: U,
    // biome-ignore lint/suspicious/noExplicitAny: the WebAuthn JSON type is @tessera/passkeys'
    response: any,
    options: {
      challengeId: string;
      name?: string;
      events?: PasskeyEventSinkLike<U>;
      context?: unknown;
    },
  ): Promise<PasskeySummaryLike>;
  authenticationOptions(): Promise<{ challengeId: string; options: unknown }>;
  verifyAuthentication(
    // biome-ignore lint/suspicious/noExplicitAny: the WebAuthn JSON type is @tessera/passkeys'
    response: any,
    options: { challengeId: string },
  ): Promise<{ userId: ID; credentialId: string; userVerified: boolean }>;
  listPasskeys(user: { id: ID; email: string }): Promise<PasskeySummaryLike[]>;
  removePasskey<U extends { id: ID; email: string }>(
    user: U,
    credentialId: string,
    options?: { events?: PasskeyEventSinkLike<U>; context?: unknown },
  ): Promise<boolean>;
}

/**
 * Passkeys for the routers: one `PasskeyService` (its challenge store must be shared by
 * every request), or a function building the request's around its user manager (a
 * request-scoped database; give every one the same `challengeStore`).
 */
export type PasskeySetup<U extends UserProtocol<ID>, ID> =
  | PasskeyServiceLike<ID>
  | ((userManager: UserManager<U, ID>, ctx: Context) => PasskeyServiceLike<ID>);

/** Options of `tessera.passkeysRouter` (the signed-in user's passkeys, beside the users router). */
export interface PasskeysRouterOptions extends RouterOptions {
  /** Unverified users get 403. @default false */
  requiresVerification?: boolean;
}

/** The request's service of `setup`. */
export function passkeyService<U extends UserProtocol<ID>, ID>(
  setup: PasskeySetup<U, ID>,
  userManager: UserManager<U, ID>,
  ctx: Context,
): PasskeyServiceLike<ID> {
  return typeof setup === "function" ? setup(userManager, ctx) : setup;
}

const CHALLENGE_ID = z.string().min(1).max(128);
/**
 * A `PublicKeyCredential`'s JSON (`credential.toJSON()`, or `@simplewebauthn/browser`'s
 * answer): checked here only for its outline; `@tessera/passkeys` verifies the rest.
 */
const credentialJson = z.looseObject({
  id: z.string().min(1).max(2048),
  rawId: z.string().max(2048).optional(),
  type: z.string().max(32),
  response: z.looseObject({}),
});
const registerBody = z.object({
  challenge_id: CHALLENGE_ID,
  credential: credentialJson,
  name: z.string().max(256).optional(),
});
const loginBody = z.object({ challenge_id: CHALLENGE_ID, credential: credentialJson });

const err = (code: string, summary: string): RouteError => ({ status: 400, code, summary });
const PASSKEY_CODES = new Set<string>([
  HttpErrorCode.PASSKEY_INVALID_CHALLENGE,
  HttpErrorCode.PASSKEY_VERIFICATION_FAILED,
  HttpErrorCode.PASSKEY_UNKNOWN_CREDENTIAL,
  HttpErrorCode.PASSKEY_USER_HANDLE_MISMATCH,
  HttpErrorCode.PASSKEY_COUNTER_NOT_INCREASED,
]);

/** Runs `work`; a `PasskeyError` (by its stable `code`) becomes the route's declared answer. */
async function passkeyCall<T>(work: () => Promise<T>, fail: (code: string) => never): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === "string" && PASSKEY_CODES.has(code)) fail(code);
    if (code === ErrorCode.PASSKEY_ALREADY_REGISTERED)
      fail(HttpErrorCode.PASSKEY_ALREADY_REGISTERED);
    throw error;
  }
}

const INVALID_CHALLENGE = err(
  HttpErrorCode.PASSKEY_INVALID_CHALLENGE,
  "Unknown, expired or used challenge, or one of another purpose or user.",
);
const VERIFICATION_FAILED = err(
  HttpErrorCode.PASSKEY_VERIFICATION_FAILED,
  "The WebAuthn response did not verify (origin, RP ID, challenge, user verification, signature).",
);

const optionsSchema = {
  type: "object",
  required: ["challenge_id", "options"],
  properties: {
    challenge_id: {
      type: "string",
      description: "Send it back with the credential: the challenge is kept on the server.",
    },
    options: {
      type: "object",
      description:
        "WebAuthn options JSON, for `PublicKeyCredential.parseCreationOptionsFromJSON` / `parseRequestOptionsFromJSON`.",
    },
  },
} as const;
const passkeyReadSchema = {
  type: "object",
  required: ["id", "name", "created_at", "last_used_at", "backed_up"],
  properties: {
    id: { type: "string", description: "The credential id (base64url)." },
    name: { type: "string" },
    created_at: { type: "string", format: "date-time" },
    last_used_at: { type: ["string", "null"], format: "date-time" },
    backed_up: { type: "boolean", description: "A synced passkey." },
  },
} as const;

/** A passkey on the wire. */
export function passkeyRead(passkey: PasskeySummaryLike): Record<string, unknown> {
  return {
    id: passkey.id,
    name: passkey.name,
    created_at: passkey.createdAt.toISOString(),
    last_used_at: passkey.lastUsedAt?.toISOString() ?? null,
    backed_up: passkey.backedUp,
  };
}

/**
 * A passkey login through one backend: `POST /passkey/options` and `POST /passkey/login`.
 * A passkey with user verification is two factors in one (something held, and a PIN or
 * biometric), so it logs in without the TOTP step; a response without user verification
 * (only possible with `userVerification` below `"required"`) goes through `mfaGate` as a
 * password does.
 */
export function passkeyLoginRoutes<U extends UserProtocol<ID>, ID>(
  backend: string,
  setup: PasskeySetup<U, ID>,
  transport: "login" | "pair",
  options: {
    requiresVerification: boolean;
    startSession: StartSession<U>;
    mfaGate: ((ctx: Context, user: U, userManager: UserManager<U, ID>) => Promise<boolean>) | null;
    extraErrors: readonly RouteError[];
  },
): RouteSpec<U, ID>[] {
  const common = { tags: ["auth"], backend };
  const refused: RouteError[] = [
    err(HttpErrorCode.LOGIN_BAD_CREDENTIALS, "The passkey's user is gone or inactive."),
  ];
  if (options.requiresVerification) {
    refused.push(
      err(
        HttpErrorCode.LOGIN_USER_NOT_VERIFIED,
        "The user is not verified (`requiresVerification`).",
      ),
    );
  }
  return [
    publicRoute<U, ID>({
      ...common,
      method: "post",
      path: "/passkey/options",
      operationId: `auth:${backend}.passkey_options`,
      summary: `Log in with a passkey: the options (${backend})`,
      description:
        "Options for `navigator.credentials.get()` (no username: discoverable credentials) and " +
        "the `challenge_id` to send back; the challenge is single-use and short-lived.",
      rateLimit: { bucket: "passkeyLogin", code: HttpErrorCode.TOO_MANY_REQUESTS },
      response: { status: 200, description: "The WebAuthn request options.", body: optionsSchema },
      async handler(ctx, { userManager, attempt }) {
        await attempt(null);
        const start = await passkeyService(setup, userManager, ctx).authenticationOptions();
        ctx.set("Cache-Control", "no-store");
        return { challenge_id: start.challengeId, options: start.options };
      },
    }),
    publicRoute<U, ID, z.output<typeof loginBody>>({
      ...common,
      method: "post",
      path: "/passkey/login",
      operationId: `auth:${backend}.passkey_login`,
      summary: `Log in with a passkey (${backend})`,
      description:
        "The `challenge_id` and the browser's credential (`credential.toJSON()`): logged in as " +
        "`/login` logs in. A passkey with user verification needs no second step.",
      csrf: "login",
      body: { type: "json", schema: loginBody, name: "PasskeyLoginRequest" },
      response: { transport },
      errors: [
        INVALID_CHALLENGE,
        VERIFICATION_FAILED,
        err(
          HttpErrorCode.PASSKEY_UNKNOWN_CREDENTIAL,
          "No such passkey (deleted, or never registered here).",
        ),
        err(
          HttpErrorCode.PASSKEY_USER_HANDLE_MISMATCH,
          "The user handle is not the credential owner's.",
        ),
        err(
          HttpErrorCode.PASSKEY_COUNTER_NOT_INCREASED,
          "The signature counter did not increase (a cloned authenticator).",
        ),
        ...refused,
        ...options.extraErrors,
      ],
      async handler(ctx, { body, userManager, fail }) {
        const service = passkeyService(setup, userManager, ctx);
        const login = await passkeyCall(
          () => service.verifyAuthentication(body.credential, { challengeId: body.challenge_id }),
          fail,
        );
        const user = await userManager.userDb.get(login.userId);
        if (!user?.isActive) return fail(HttpErrorCode.LOGIN_BAD_CREDENTIALS);
        if (options.requiresVerification && !user.isVerified)
          return fail(HttpErrorCode.LOGIN_USER_NOT_VERIFIED);
        if (
          !login.userVerified &&
          options.mfaGate &&
          !(await options.mfaGate(ctx, user, userManager))
        )
          return undefined;
        await options.startSession(ctx, user, userManager);
        return undefined;
      },
    }),
  ];
}

/**
 * The signed-in user's passkeys: `POST /me/passkeys/options`, `POST /me/passkeys` (register),
 * `GET /me/passkeys`, `DELETE /me/passkeys/{passkeyId}`. Adding or removing one ends the
 * user's other sessions and keeps this one (ASVS 5.0 7.4.3).
 */
export function passkeyRoutes<U extends UserProtocol<ID>, ID>(
  setup: PasskeySetup<U, ID>,
  options: PasskeysRouterOptions,
): RouteSpec<U, ID>[] {
  const who = { who: "user" as const, verified: options.requiresVerification ?? false };
  const tags = ["passkeys"];
  const sink = (userManager: UserManager<U, ID>, current: ReturnType<typeof currentOf>) => ({
    onSecurityEvent: (user: U, event: SecurityEvent, context?: unknown) =>
      userManager.onSecurityEvent(user, event, context, current),
  });
  return [
    userRoute<U, ID>({
      ...who,
      method: "post",
      path: "/me/passkeys/options",
      operationId: "passkeys:registration_options",
      summary: "Register a passkey: the options",
      description:
        "Options for `navigator.credentials.create()` (a discoverable credential, none of the " +
        "user's passkeys again) and the `challenge_id` to send back.",
      tags,
      response: { status: 200, description: "The WebAuthn creation options.", body: optionsSchema },
      async handler(ctx, { auth, userManager }) {
        const start = await passkeyService(setup, userManager, ctx).registrationOptions(auth.user);
        ctx.set("Cache-Control", "no-store");
        return { challenge_id: start.challengeId, options: start.options };
      },
    }),
    userRoute<U, ID, z.output<typeof registerBody>>({
      ...who,
      method: "post",
      path: "/me/passkeys",
      operationId: "passkeys:register",
      summary: "Register a passkey",
      description:
        "The `challenge_id`, the browser's credential (`credential.toJSON()`) and an optional " +
        "`name` (64 characters kept). The user's other sessions end.",
      tags,
      body: { type: "json", schema: registerBody, name: "PasskeyRegisterRequest" },
      response: { status: 201, description: "The passkey.", body: passkeyReadSchema },
      errors: [
        INVALID_CHALLENGE,
        VERIFICATION_FAILED,
        err(HttpErrorCode.PASSKEY_ALREADY_REGISTERED, "This credential is registered already."),
      ],
      async handler(ctx, { auth, body, userManager, fail }) {
        const service = passkeyService(setup, userManager, ctx);
        const stored = await passkeyCall(
          () =>
            service.verifyRegistration(auth.user, body.credential, {
              challengeId: body.challenge_id,
              ...(body.name === undefined ? {} : { name: body.name }),
              events: sink(userManager, currentOf(auth)),
              context: ctx,
            }),
          fail,
        );
        return passkeyRead(stored);
      },
    }),
    userRoute<U, ID>({
      ...who,
      method: "get",
      path: "/me/passkeys",
      operationId: "passkeys:list",
      summary: "The user's passkeys",
      tags,
      response: {
        status: 200,
        description: "Oldest first; no key material.",
        body: { type: "array", items: passkeyReadSchema },
      },
      async handler(ctx, { auth, userManager }) {
        const listed = await passkeyService(setup, userManager, ctx).listPasskeys(auth.user);
        return listed.map(passkeyRead);
      },
    }),
    userRoute<U, ID>({
      ...who,
      method: "delete",
      path: "/me/passkeys/:passkeyId",
      operationId: "passkeys:delete",
      summary: "Delete a passkey",
      description: "It cannot log in any more. The user's other sessions end.",
      tags,
      parameters: [
        {
          name: "passkeyId",
          in: "path",
          required: true,
          description: "The credential id, as listed.",
          schema: { type: "string" },
        },
      ],
      response: { status: 204, description: "Deleted." },
      errors: [notFound("No passkey of the current user with this id.")],
      async handler(ctx, { auth, userManager, fail }) {
        const id = String(ctx.params?.passkeyId ?? "");
        const removed = await passkeyService(setup, userManager, ctx).removePasskey(auth.user, id, {
          events: sink(userManager, currentOf(auth)),
          context: ctx,
        });
        if (!removed) return fail("Not Found");
        return undefined;
      },
    }),
  ];
}
