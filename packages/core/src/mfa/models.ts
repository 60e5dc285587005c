/**
 * Second factors and passkeys (issue 17): what is stored for a user, and the storage
 * contract adapters implement. Secrets arrive here already encrypted (TOTP) or hashed
 * (recovery codes); passkeys are public keys. Every write that must happen once (a TOTP
 * step, a recovery code, a passkey's signature counter) is one conditional write, so two
 * concurrent requests cannot both use the same code.
 */

/** A user's TOTP factor at rest. */
export interface TotpFactor {
  /** The shared secret, encrypted at rest with a key from configuration (opaque here). */
  secret: string;
  /** When enrolment was confirmed with a first code; null while pending (not yet a factor). */
  confirmedAt: Date | null;
  /** The last time step a code was accepted for (replay refused at or below it); -1 when none. */
  lastStep: number;
}

/** One recovery code at rest: its hash, and when it was used. */
export interface RecoveryCode {
  /** A hash of the code (keyed or slow; never the code). */
  hash: string;
  usedAt: Date | null;
}

/** A WebAuthn credential (passkey) registered for a user. */
export interface PasskeyCredential {
  /** The credential id, base64url (unique across all users). */
  id: string;
  /** The COSE public key, base64url. */
  publicKey: string;
  /** The signature counter last seen (0 for authenticators that do not count). */
  counter: number;
  /** Transports the authenticator reported (`internal`, `hybrid`, `usb`…). */
  transports: string[];
  /** A name the user chose, for the list ("Laptop"). */
  name: string;
  /** Whether the credential is backed up (synced passkey) as the authenticator said. */
  backedUp: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** A user's second-factor state, as one read returns it. */
export interface MfaState {
  totp: TotpFactor | null;
  recoveryCodes: RecoveryCode[];
}

/**
 * Storage of second factors and passkeys, implemented by the user databases of db-mikroorm
 * (tables / a collection) and db-mongo (embedded), and the in-memory adapter. User ids are
 * the app's; every read and conditional write on an unknown user id behaves as for a user
 * with nothing stored (empty state, `false`). A write for a user that is not stored
 * (`setTotp`, `setRecoveryCodes`, `addPasskey`) stores nothing readable: it resolves, or
 * rejects with `UserNotExistsError` as a foreign key would. Deleting a user deletes all of it.
 */
export interface MfaDatabase<ID = unknown> {
  /** The user's TOTP factor and recovery codes (one round trip). */
  getMfa(userId: ID): Promise<MfaState>;
  /** Sets (enrolment, confirmation) or removes (`null`) the user's TOTP factor. */
  setTotp(userId: ID, totp: TotpFactor | null): Promise<void>;
  /**
   * Records that a code for `step` was accepted, only if the stored `lastStep` is below it
   * (one conditional write): true when recorded, false when that step or a later one was
   * used already (a replay) or there is no factor.
   */
  advanceTotpStep(userId: ID, step: number): Promise<boolean>;
  /** Replaces the user's recovery codes (regeneration invalidates the old set). */
  setRecoveryCodes(userId: ID, hashes: readonly string[]): Promise<void>;
  /**
   * Marks the unused code with this hash used (one conditional write): true when it was
   * unused, false when unknown or used already.
   */
  useRecoveryCode(userId: ID, hash: string, at: Date): Promise<boolean>;
  /** The user's passkeys, oldest first. */
  listPasskeys(userId: ID): Promise<PasskeyCredential[]>;
  /** The passkey with this credential id and its owner, or null (a discoverable login). */
  getPasskey(credentialId: string): Promise<{ userId: ID; credential: PasskeyCredential } | null>;
  /** Registers a passkey; a credential id registered already (to anyone) throws `PasskeyAlreadyRegisteredError`. */
  addPasskey(userId: ID, credential: PasskeyCredential): Promise<void>;
  /**
   * After a login: writes `counter` and `lastUsedAt` only if the stored counter is still
   * `expectedCounter` (one conditional write); false when another login moved it first.
   */
  updatePasskeyCounter(
    credentialId: string,
    expectedCounter: number,
    counter: number,
    at: Date,
  ): Promise<boolean>;
  /** Removes the user's passkey; false when it is not one of theirs. */
  removePasskey(userId: ID, credentialId: string): Promise<boolean>;
}

/** The verbs of {@link MfaDatabase}: what an adapter defines to keep second factors. */
export const MFA_DATABASE_VERBS = [
  "getMfa",
  "setTotp",
  "advanceTotpStep",
  "setRecoveryCodes",
  "useRecoveryCode",
  "listPasskeys",
  "getPasskey",
  "addPasskey",
  "updatePasskeyCounter",
  "removePasskey",
] as const satisfies readonly (keyof MfaDatabase)[];

/**
 * True when the user database also keeps second factors and passkeys ({@link MfaDatabase}):
 * it has every one of its methods.
 *
 * @example
 * if (!isMfaDatabase(userDb)) throw new MfaNotSupportedError("configure MFA in the adapter");
 */
export function isMfaDatabase<T extends object, ID = unknown>(db: T): db is T & MfaDatabase<ID> {
  const candidate = db as Partial<Record<keyof MfaDatabase, unknown>>;
  return MFA_DATABASE_VERBS.every((verb) => typeof candidate[verb] === "function");
}
