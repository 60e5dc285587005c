import type { UserProtocol } from "@tessera/core";

/** Who must have a second factor. */
export type MfaRequirement = "none" | "superusers" | "everyone";

/**
 * What the login route does after a correct password:
 * - `session`: log in as before (no factor, and the policy does not require one);
 * - `challenge`: no session; issue a challenge (`400 LOGIN_MFA_REQUIRED` with `mfa_token`);
 * - `enrolment_required`: no session; the policy requires a factor the user does not have:
 *   issue an `enrol` challenge (`400 {"detail": "LOGIN_MFA_ENROLMENT_REQUIRED", "mfa_token": …}`),
 *   with which the client enrols TOTP (`MfaChallenges.beginEnrolment`) and confirms it with a
 *   first code (`completeEnrolment`), which logs in. Until then the password alone opens
 *   nothing but that enrolment (whoever has the password can enrol: the only factor the
 *   account had). A user who has a factor always gets a `verify` challenge, whatever the policy.
 */
export type MfaLoginStep = "session" | "challenge" | "enrolment_required";

/**
 * The login rule of `requireFor`:
 * - `"none"` (default): users with a confirmed factor get a challenge; others log in as
 *   before, so FastAPI Users clients are unaffected.
 * - `"superusers"`: as `"none"`, but a superuser without a factor cannot log in
 *   (`enrolment_required`).
 * - `"everyone"`: nobody without a factor can log in (ASVS 5.0 6.3.2, level 2).
 */
export function mfaLoginStep(
  user: Pick<UserProtocol<unknown>, "isSuperuser">,
  hasFactor: boolean,
  requireFor: MfaRequirement = "none",
): MfaLoginStep {
  if (hasFactor) return "challenge";
  if (requireFor === "everyone") return "enrolment_required";
  if (requireFor === "superusers" && user.isSuperuser) return "enrolment_required";
  return "session";
}
