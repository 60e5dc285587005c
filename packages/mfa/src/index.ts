/**
 * `@tessera/mfa`: second factors for Tessera, framework-neutral. {@link TotpFactorService}
 * enrols, confirms, verifies and disables TOTP (RFC 6238 on otpauth, secrets encrypted at
 * rest, each code accepted once) and manages hashed single-use recovery codes;
 * {@link MfaChallenges} is the login's second step (a short-lived, single-use `mfa_token`
 * bound to the user and backend); {@link mfaLoginStep} is the `requireFor` policy.
 */
export {
  type MfaChallenge,
  type MfaChallengePurpose,
  MfaChallenges,
  type MfaChallengesOptions,
  type MfaProof,
} from "./challenge.js";
export { MemoryMfaChallengeStore, type MfaChallengeStore } from "./challenge-store.js";
export {
  isMfaError,
  MfaCodeInvalidError,
  MfaError,
  MfaErrorCode,
  type MfaErrorCodeValue,
} from "./errors.js";
export { type MfaKey, MfaKeyring, type MfaSecret } from "./keyring.js";
export { type MfaLoginStep, type MfaRequirement, mfaLoginStep } from "./policy.js";
export {
  generateRecoveryCode,
  normalizeRecoveryCode,
  RECOVERY_CODE_BITS,
} from "./recovery-codes.js";
export {
  type CurrentSession,
  type DisableProof,
  type TotpEnrolment,
  TotpFactorService,
  type TotpFactorServiceOptions,
  type TotpStatus,
} from "./totp.js";
