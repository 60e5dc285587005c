/**
 * What the passkey service needs of storage: the passkey half of core's `MfaDatabase`
 * (issue 17), declared structurally so any `MfaDatabase` is one, and so a test or an app
 * can give just these five methods.
 */

/** A WebAuthn credential at rest: the same shape as core's `PasskeyCredential`. */
export interface StoredPasskey {
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
  /** Whether the credential is backed up (a synced passkey), as the authenticator said. */
  backedUp: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** The passkey methods of core's `MfaDatabase`, with the same contract. */
export interface PasskeyDatabase<ID = unknown> {
  /** The user's passkeys, oldest first. */
  listPasskeys(userId: ID): Promise<StoredPasskey[]>;
  /** The passkey with this credential id and its owner, or null. */
  getPasskey(credentialId: string): Promise<{ userId: ID; credential: StoredPasskey } | null>;
  /** Registers a passkey; an id registered already (to anyone) throws `PasskeyAlreadyRegisteredError`. */
  addPasskey(userId: ID, credential: StoredPasskey): Promise<void>;
  /** Writes `counter` and `lastUsedAt` only if the stored counter is still `expectedCounter`. */
  updatePasskeyCounter(
    credentialId: string,
    expectedCounter: number,
    counter: number,
    at: Date,
  ): Promise<boolean>;
  /** Removes the user's passkey; false when it is not one of theirs. */
  removePasskey(userId: ID, credentialId: string): Promise<boolean>;
}
