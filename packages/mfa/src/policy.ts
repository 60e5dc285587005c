import type { UserProtocol } from "@tessera/core";

/** Who must have a second factor. */
export type MfaRequirement = "none" | "superusers" | "everyone";

/**
 * What the login route does after a correct password:
 * - `session`: log in as before (no factor, and the policy does not require one);
 * - `challenge`: no session; issue a challenge (`400 LOGIN_MFA_REQUIRED` with `mfa_token`);
 * - `enrolment_required`: no session; the policy requires a factor the user does not have
 *   (`400 LOGIN_MFA_ENROLMENT_REQUIRED`): an administrator enrols it, or the app offers an
 *   enrolment flow of its own. A user who has a factor always gets a challenge, whatever
 *   the policy.
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
