import { ErrorCode, type UserManager, type UserProtocol } from "@tessera/core";
import type { Context } from "koa";
import { z } from "zod";
import { HttpErrorCode } from "../error-codes.js";
import type { RouterOptions } from "../route/deps.js";
import { publicRoute, type RouteError, type RouteSpec, userRoute } from "../route/spec.js";

/** Who must have a second factor (`@tessera/mfa`'s `MfaRequirement`). */
export type MfaRequirementLike = "none" | "superusers" | "everyone";

/** The session making a change, kept when a factor change ends the others (ASVS 5.0 7.4.3). */
export interface CurrentSessionLike {
  token: string;
  handle?: string;
}

/** A TOTP enrolment as `@tessera/mfa` returns it: shown once. */
export interface TotpEnrolmentLike {
  secret: string;
  uri: string;
  issuer: string;
  label: string;
  algorithm: string;
  digits: number;
  period: number;
}

/**
 * What the MFA routes need of `@tessera/mfa`'s `TotpFactorService`. Described by shape, so
 * `@tessera/koa` loads nothing of `@tessera/mfa` (an optional peer).
 */
export interface TotpFactorsLike<U> {
  rateLimitKey(user: U): string;
  status(user: U): Promise<{ enabled: boolean; pending: boolean; recoveryCodesLeft: number }>;
  isEnabled(user: U): Promise<boolean>;
  enrol(user: U): Promise<TotpEnrolmentLike>;
  confirm(
    user: U,
    code: string,
    context?: unknown,
    current?: CurrentSessionLike,
  ): Promise<{ recoveryCodes: string[] }>;
  disable(
    user: U,
    proof: { code: string } | { password: string },
    context?: unknown,
    current?: CurrentSessionLike,
  ): Promise<void>;
  regenerateRecoveryCodes(
    user: U,
    code: string,
    context?: unknown,
    current?: CurrentSessionLike,
  ): Promise<string[]>;
}

/** What the login routes need of `@tessera/mfa`'s `MfaChallenges`. */
export interface MfaChallengesLike<U> {
  issue(
    user: U,
    backend: string,
    options?: { purpose?: "verify" | "enrol" },
  ): { token: string; expiresAt: Date };
  rateLimitKey(token: unknown): string | null;
  complete(
    token: unknown,
    proof: { code: string } | { recoveryCode: string },
    options: { backend: string; context?: unknown },
  ): Promise<U>;
  beginEnrolment(token: unknown, options: { backend: string }): Promise<TotpEnrolmentLike>;
  completeEnrolment(
    token: unknown,
    code: string,
    options: { backend: string; context?: unknown },
  ): Promise<{ user: U; recoveryCodes: string[] }>;
}

/**
 * Second factors for the routers (`@tessera/mfa`): the request's services, built around its
 * user manager (cheap: share the keyring and the challenge store), and the login policy.
 *
 * @example
 * const keyring = new MfaKeyring([{ id: "2026-12", secret: process.env.MFA_KEY! }]);
 * const store = new MemoryMfaChallengeStore(); // RedisMfaChallengeStore with several instances
 * new Tessera({ getUserManager, backends, mfa: {
 *   factors: (userManager) => new TotpFactorService({ userManager, keyring, issuer: "Example" }),
 *   challenges: (userManager, factors) =>
 *     new MfaChallenges({ userManager, factors, keyring, store }),
 *   requireFor: "superusers",
 * } });
 */
export interface MfaSetup<U extends UserProtocol<ID>, ID> {
  /** The request's `TotpFactorService`. */
  factors(userManager: UserManager<U, ID>, ctx: Context): TotpFactorsLike<U>;
  /** The request's `MfaChallenges` over `factors`. */
  challenges(
    userManager: UserManager<U, ID>,
    factors: TotpFactorsLike<U>,
    ctx: Context,
  ): MfaChallengesLike<U>;
  /**
   * Who must have a factor to log in: `"none"` (users with one get a second step; the others
   * log in as before), `"superusers"`, `"everyone"` (ASVS 5.0 6.3.2, level 2).
   * @default "none"
   */
  requireFor?: MfaRequirementLike;
}

/** Options of `tessera.mfaRouter` (the signed-in user's factors, beside the users router). */
export interface MfaRouterOptions extends RouterOptions {
  /** Unverified users get 403. @default false */
  requiresVerification?: boolean;
}

/** The `requireFor` rule, as `@tessera/mfa`'s `mfaLoginStep`. */
export function mfaLoginStep(
  user: { isSuperuser: boolean },
  hasFactor: boolean,
  requireFor: MfaRequirementLike = "none",
): "session" | "challenge" | "enrolment_required" {
  if (hasFactor) return "challenge";
  if (requireFor === "everyone") return "enrolment_required";
  if (requireFor === "superusers" && user.isSuperuser) return "enrolment_required";
  return "session";
}

const TOKEN = z.string().min(1).max(1024);
const CODE = z.string().min(1).max(64);
const RECOVERY = z.string().min(1).max(128);

/** `POST /login/mfa`: the challenge and a TOTP code or a recovery code (exactly one). */
export const mfaLoginBody = z
  .object({ mfa_token: TOKEN, code: CODE.optional(), recovery_code: RECOVERY.optional() })
  .refine((b) => (b.code === undefined) !== (b.recovery_code === undefined), {
    message: "Give exactly one of code and recovery_code",
    path: ["code"],
  });
const tokenBody = z.object({ mfa_token: TOKEN });
const tokenCodeBody = z.object({ mfa_token: TOKEN, code: CODE });
const codeBody = z.object({ code: CODE });
const disableBody = z
  .object({ code: CODE.optional(), password: z.string().min(1).max(65_536).optional() })
  .refine((b) => (b.code === undefined) !== (b.password === undefined), {
    message: "Give exactly one of code and password",
    path: ["code"],
  });

const MFA_CODES = new Set<string>([
  HttpErrorCode.MFA_CODE_INVALID,
  HttpErrorCode.MFA_TOKEN_INVALID,
  HttpErrorCode.MFA_TOKEN_EXPIRED,
  HttpErrorCode.MFA_TOKEN_USED,
  HttpErrorCode.MFA_NOT_ENABLED,
  HttpErrorCode.MFA_ALREADY_ENABLED,
  HttpErrorCode.MFA_NOT_ENROLLING,
]);

/** Runs `work`; an `MfaError` (by its stable `code`) becomes the route's declared answer. */
export async function mfaCall<T>(
  work: () => Promise<T>,
  fail: (code: string) => never,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === "string" && MFA_CODES.has(code)) fail(code);
    if (code === ErrorCode.INVALID_CURRENT_PASSWORD) fail(HttpErrorCode.MFA_INVALID_PASSWORD);
    throw error;
  }
}

const err = (code: string, summary: string, status = 400): RouteError => ({
  status,
  code,
  summary,
});
const CODE_INVALID = err(
  HttpErrorCode.MFA_CODE_INVALID,
  "Wrong, malformed, out-of-window or replayed code.",
);
const TOKEN_ERRORS = [
  err(
    HttpErrorCode.MFA_TOKEN_INVALID,
    "Malformed, forged, another backend's or purpose's token, or its user is gone or inactive.",
  ),
  err(HttpErrorCode.MFA_TOKEN_EXPIRED, "The token expired: log in again."),
  err(
    HttpErrorCode.MFA_TOKEN_USED,
    "The token was used, or died after too many wrong codes: log in again.",
  ),
];

const enrolmentSchema = {
  type: "object",
  required: ["secret", "uri", "issuer", "label", "algorithm", "digits", "period"],
  properties: {
    secret: { type: "string", description: "The shared secret, base32 (to type in)." },
    uri: { type: "string", description: "`otpauth://totp/…` (for a QR code)." },
    issuer: { type: "string" },
    label: { type: "string" },
    algorithm: { type: "string", enum: ["SHA1"] },
    digits: { type: "integer", enum: [6] },
    period: { type: "integer", enum: [30] },
  },
} as const;
const recoveryCodesSchema = {
  type: "object",
  required: ["recovery_codes"],
  properties: {
    recovery_codes: {
      type: "array",
      items: { type: "string" },
      description: "Shown once: only their hashes are kept. Each works once.",
    },
  },
} as const;

/** The wire form of an enrolment. */
export function enrolmentRead(enrolment: TotpEnrolmentLike): Record<string, unknown> {
  const { secret, uri, issuer, label, algorithm, digits, period } = enrolment;
  return { secret, uri, issuer, label, algorithm, digits, period };
}

/** Logs `user` in through the auth router's backend, as `/login` does (written on `ctx`). */
export type StartSession<U> = (
  ctx: Context,
  user: U,
  userManager: { onAfterLogin(user: U, context?: unknown): Promise<void> },
  extra?: Record<string, unknown>,
) => Promise<void>;

/**
 * The second step of the login, for one backend: `POST /login/mfa` (a TOTP or recovery code
 * completes a `LOGIN_MFA_REQUIRED` challenge), and, with a `requireFor` policy,
 * `POST /login/mfa/enrol` and `POST /login/mfa/enrol/confirm`. Each logs in as `/login` does.
 */
export function mfaLoginRoutes<U extends UserProtocol<ID>, ID>(
  backend: string,
  setup: MfaSetup<U, ID>,
  transport: "login" | "pair",
  startSession: StartSession<U>,
): RouteSpec<U, ID>[] {
  const services = (userManager: UserManager<U, ID>, ctx: Context) => {
    const factors = setup.factors(userManager, ctx);
    return { factors, challenges: setup.challenges(userManager, factors, ctx) };
  };
  const common = {
    tags: ["auth"],
    csrf: "login" as const,
    backend,
  };
  const limited = { bucket: "mfa" as const, code: HttpErrorCode.TOO_MANY_REQUESTS };
  const routes = [
    publicRoute<U, ID, z.output<typeof mfaLoginBody>>({
      ...common,
      method: "post",
      path: "/login/mfa",
      operationId: `auth:${backend}.login_mfa`,
      summary: `Log in: the second factor (${backend})`,
      description:
        "Completes a login that answered `400 LOGIN_MFA_REQUIRED`: its `mfa_token` and a TOTP " +
        "`code` or a `recovery_code`. Logged in as `/login` logs in. Rate-limited per account; " +
        "a challenge takes 5 wrong codes, then a new password step is needed.",
      body: { type: "json", schema: mfaLoginBody, name: "MfaLoginRequest" },
      rateLimit: limited,
      response: { transport },
      errors: [CODE_INVALID, ...TOKEN_ERRORS],
      async handler(ctx, { body, userManager, attempt, fail }) {
        const { challenges } = services(userManager, ctx);
        const counted = await attempt(challenges.rateLimitKey(body.mfa_token));
        const proof =
          body.code !== undefined
            ? { code: body.code }
            : { recoveryCode: body.recovery_code as string };
        const user = await mfaCall(
          () => challenges.complete(body.mfa_token, proof, { backend, context: ctx }),
          fail,
        );
        await counted.refund();
        await startSession(ctx, user, userManager);
        return undefined;
      },
    }),
    publicRoute<U, ID, z.output<typeof tokenBody>>({
      ...common,
      method: "post",
      path: "/login/mfa/enrol",
      operationId: `auth:${backend}.login_mfa_enrol`,
      summary: `Log in: enrol the required second factor (${backend})`,
      description:
        "With the `mfa_token` of a `400 LOGIN_MFA_ENROLMENT_REQUIRED` login: a new TOTP secret " +
        "and its `otpauth://` URI (calling it again replaces the pending secret).",
      body: { type: "json", schema: tokenBody, name: "MfaTokenRequest" },
      response: {
        status: 200,
        description: "The secret to put in an authenticator app.",
        body: enrolmentSchema,
      },
      errors: TOKEN_ERRORS,
      async handler(ctx, { body, userManager, fail }) {
        const { challenges } = services(userManager, ctx);
        ctx.set("Cache-Control", "no-store");
        return enrolmentRead(
          await mfaCall(() => challenges.beginEnrolment(body.mfa_token, { backend }), fail),
        );
      },
    }),
    publicRoute<U, ID, z.output<typeof tokenCodeBody>>({
      ...common,
      method: "post",
      path: "/login/mfa/enrol/confirm",
      operationId: `auth:${backend}.login_mfa_enrol_confirm`,
      summary: `Log in: confirm the enrolled factor (${backend})`,
      description:
        "A first code of the enrolled secret turns TOTP on and logs in, as `/login` does, with " +
        "`recovery_codes` (shown once) added to the body: a Bearer body gains the field, a " +
        'cookie login answers `200 {"recovery_codes": […]}` instead of 204.',
      body: { type: "json", schema: tokenCodeBody, name: "MfaEnrolConfirmRequest" },
      rateLimit: limited,
      response: { transport, adds: recoveryCodesSchema },
      errors: [
        CODE_INVALID,
        ...TOKEN_ERRORS,
        err(
          HttpErrorCode.MFA_NOT_ENROLLING,
          "No pending enrolment: call `/login/mfa/enrol` first.",
        ),
      ],
      async handler(ctx, { body, userManager, attempt, fail }) {
        const { challenges } = services(userManager, ctx);
        const counted = await attempt(challenges.rateLimitKey(body.mfa_token));
        const { user, recoveryCodes } = await mfaCall(
          () => challenges.completeEnrolment(body.mfa_token, body.code, { backend, context: ctx }),
          fail,
        );
        await counted.refund();
        await startSession(ctx, user, userManager, { recovery_codes: recoveryCodes });
        return undefined;
      },
    }),
  ];
  // The enrolment within the login exists only where a policy can require it.
  return (setup.requireFor ?? "none") === "none" ? routes.slice(0, 1) : routes;
}

/**
 * After a correct password: whether the login may start a session now (true), or was
 * answered with a challenge (`LOGIN_MFA_REQUIRED`) or an enrolment (`…_ENROLMENT_REQUIRED`).
 */
export function mfaLoginGate<U extends UserProtocol<ID>, ID>(
  backend: string,
  setup: MfaSetup<U, ID>,
) {
  return async (ctx: Context, user: U, userManager: UserManager<U, ID>): Promise<boolean> => {
    const factors = setup.factors(userManager, ctx);
    const step = mfaLoginStep(user, await factors.isEnabled(user), setup.requireFor);
    if (step === "session") return true;
    const challenges = setup.challenges(userManager, factors, ctx);
    const purpose = step === "challenge" ? "verify" : "enrol";
    const { token, expiresAt } = challenges.issue(user, backend, { purpose });
    ctx.status = 400;
    ctx.set("Cache-Control", "no-store");
    ctx.body = {
      detail:
        step === "challenge"
          ? HttpErrorCode.LOGIN_MFA_REQUIRED
          : HttpErrorCode.LOGIN_MFA_ENROLMENT_REQUIRED,
      mfa_token: token,
      expires_at: expiresAt.toISOString(),
    };
    return false;
  };
}

/** The login route's extra answers when MFA is configured. */
export function mfaLoginErrors(setup: MfaSetup<never, never>): RouteError[] {
  const errors = [
    err(
      HttpErrorCode.LOGIN_MFA_REQUIRED,
      "Right password, and the user has a second factor: no session; the body's `mfa_token` goes to `/login/mfa`.",
    ),
  ];
  if ((setup.requireFor ?? "none") !== "none") {
    errors.push(
      err(
        HttpErrorCode.LOGIN_MFA_ENROLMENT_REQUIRED,
        "Right password, but the policy requires a second factor the user lacks: enrol it with the body's `mfa_token`.",
      ),
    );
  }
  return errors;
}

/**
 * The signed-in user's TOTP factor: `GET /me/mfa`, `POST /me/mfa/totp` (enrol),
 * `POST /me/mfa/totp/confirm`, `POST /me/mfa/totp/disable`, `POST /me/mfa/recovery-codes`.
 * A change ends the user's other sessions and keeps this one (ASVS 5.0 7.4.3).
 */
export function mfaRoutes<U extends UserProtocol<ID>, ID>(
  setup: MfaSetup<U, ID>,
  options: MfaRouterOptions,
): RouteSpec<U, ID>[] {
  const who = { who: "user" as const, verified: options.requiresVerification ?? false };
  const tags = ["mfa"];
  const limited = { bucket: "mfa" as const, code: HttpErrorCode.TOO_MANY_REQUESTS };
  const notEnabled = err(HttpErrorCode.MFA_NOT_ENABLED, "The user has no confirmed TOTP factor.");
  const already = err(
    HttpErrorCode.MFA_ALREADY_ENABLED,
    "TOTP is on already: disable it before enrolling again.",
  );
  return [
    userRoute<U, ID>({
      ...who,
      method: "get",
      path: "/me/mfa",
      operationId: "mfa:current_user",
      summary: "The user's second factors",
      tags,
      response: {
        status: 200,
        description: "Whether TOTP is on or pending, and the recovery codes left.",
        body: {
          type: "object",
          required: ["totp_enabled", "totp_pending", "recovery_codes_left"],
          properties: {
            totp_enabled: { type: "boolean" },
            totp_pending: { type: "boolean" },
            recovery_codes_left: { type: "integer" },
          },
        },
      },
      async handler(ctx, { auth, userManager }) {
        const status = await setup.factors(userManager, ctx).status(auth.user);
        return {
          totp_enabled: status.enabled,
          totp_pending: status.pending,
          recovery_codes_left: status.recoveryCodesLeft,
        };
      },
    }),
    userRoute<U, ID>({
      ...who,
      method: "post",
      path: "/me/mfa/totp",
      operationId: "mfa:enrol_totp",
      summary: "Enrol TOTP",
      description:
        "A new secret and its `otpauth://` URI, pending until `/me/mfa/totp/confirm` (calling " +
        "it again replaces a pending secret).",
      tags,
      response: {
        status: 200,
        description: "The secret to put in an authenticator app.",
        body: enrolmentSchema,
      },
      errors: [already],
      async handler(ctx, { auth, userManager, fail }) {
        const factors = setup.factors(userManager, ctx);
        ctx.set("Cache-Control", "no-store");
        return enrolmentRead(await mfaCall(() => factors.enrol(auth.user), fail));
      },
    }),
    userRoute<U, ID, z.output<typeof codeBody>>({
      ...who,
      method: "post",
      path: "/me/mfa/totp/confirm",
      operationId: "mfa:confirm_totp",
      summary: "Confirm TOTP with a first code",
      description:
        "TOTP is on; the answer's recovery codes are shown once. The user's other sessions end.",
      tags,
      body: { type: "json", schema: codeBody, name: "MfaCodeRequest" },
      rateLimit: limited,
      response: {
        status: 200,
        description: "The recovery codes, once.",
        body: recoveryCodesSchema,
      },
      errors: [
        CODE_INVALID,
        already,
        err(HttpErrorCode.MFA_NOT_ENROLLING, "No pending enrolment: `POST /me/mfa/totp` first."),
      ],
      async handler(ctx, { auth, body, userManager, attempt, fail }) {
        const factors = setup.factors(userManager, ctx);
        const counted = await attempt(factors.rateLimitKey(auth.user));
        const { recoveryCodes } = await mfaCall(
          () => factors.confirm(auth.user, body.code, ctx, currentOf(auth)),
          fail,
        );
        await counted.refund();
        ctx.set("Cache-Control", "no-store");
        return { recovery_codes: recoveryCodes };
      },
    }),
    userRoute<U, ID, z.output<typeof disableBody>>({
      ...who,
      method: "post",
      path: "/me/mfa/totp/disable",
      operationId: "mfa:disable_totp",
      summary: "Turn TOTP off",
      description:
        "After a current `code` or the `password` (ASVS 5.0 6.5.6); the recovery codes go too. " +
        "The user's other sessions end.",
      tags,
      body: { type: "json", schema: disableBody, name: "MfaDisableRequest" },
      rateLimit: limited,
      response: { status: 204, description: "TOTP is off." },
      errors: [
        CODE_INVALID,
        err(HttpErrorCode.MFA_INVALID_PASSWORD, "Wrong password."),
        notEnabled,
      ],
      async handler(ctx, { auth, body, userManager, attempt, fail }) {
        const factors = setup.factors(userManager, ctx);
        const counted = await attempt(factors.rateLimitKey(auth.user));
        const proof =
          body.code !== undefined ? { code: body.code } : { password: body.password as string };
        await mfaCall(() => factors.disable(auth.user, proof, ctx, currentOf(auth)), fail);
        await counted.refund();
        return undefined;
      },
    }),
    userRoute<U, ID, z.output<typeof codeBody>>({
      ...who,
      method: "post",
      path: "/me/mfa/recovery-codes",
      operationId: "mfa:regenerate_recovery_codes",
      summary: "New recovery codes",
      description:
        "After a current code: a new set, shown once; the old set stops working. The user's " +
        "other sessions end.",
      tags,
      body: { type: "json", schema: codeBody, name: "MfaCodeRequest" },
      rateLimit: limited,
      response: {
        status: 200,
        description: "The new recovery codes, once.",
        body: recoveryCodesSchema,
      },
      errors: [CODE_INVALID, notEnabled],
      async handler(ctx, { auth, body, userManager, attempt, fail }) {
        const factors = setup.factors(userManager, ctx);
        const counted = await attempt(factors.rateLimitKey(auth.user));
        const recoveryCodes = await mfaCall(
          () => factors.regenerateRecoveryCodes(auth.user, body.code, ctx, currentOf(auth)),
          fail,
        );
        await counted.refund();
        ctx.set("Cache-Control", "no-store");
        return { recovery_codes: recoveryCodes };
      },
    }),
  ];
}

/** The request's session, as `onSecurityEvent` keeps it. */
export function currentOf(auth: {
  token: string;
  session?: { handle: string } | null;
}): CurrentSessionLike {
  return auth.session?.handle
    ? { token: auth.token, handle: auth.session.handle }
    : { token: auth.token };
}
