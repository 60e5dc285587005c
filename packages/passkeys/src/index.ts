/**
 * `@tessera/passkeys`: WebAuthn passkeys for Tessera users, framework-neutral, on
 * `@simplewebauthn/server`. {@link PasskeyService} registers discoverable credentials for a
 * logged-in user, lists and removes them, and logs in with one without a username; its
 * challenges wait in a {@link ChallengeStore}, single-use and short-lived.
 */
export { type ChallengeStore, MemoryChallengeStore } from "./challenge-store.js";
export type { PasskeyDatabase } from "./database.js";
export {
  isPasskeyError,
  PasskeyChallengeError,
  PasskeyCounterError,
  PasskeyError,
  PasskeyErrorCode,
  type PasskeyErrorCodeValue,
  PasskeyUnknownCredentialError,
  PasskeyUserHandleMismatchError,
  PasskeyVerificationError,
} from "./errors.js";
export type { PasskeyServiceOptions, PasskeyUser, PasskeyUserVerification } from "./options.js";
export {
  MAX_PASSKEY_NAME_LENGTH,
  type PasskeyAuthenticationStart,
  type PasskeyEventSink,
  type PasskeyLogin,
  type PasskeyRegistrationStart,
  PasskeyService,
  type PasskeySummary,
} from "./service.js";
