import { randomBytes } from "node:crypto";
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import type { PasskeyCredential, SecurityEvent } from "@tessera/core";
import { type ChallengeStore, MemoryChallengeStore } from "./challenge-store.js";
import type { PasskeyDatabase } from "./database.js";
import {
  PasskeyChallengeError,
  PasskeyCounterError,
  PasskeyError,
  PasskeyUnknownCredentialError,
  PasskeyUserHandleMismatchError,
  PasskeyVerificationError,
} from "./errors.js";
import {
  checkOrigins,
  checkRpId,
  type PasskeyServiceOptions,
  type PasskeyUser,
  type PasskeyUserVerification,
} from "./options.js";
import { UserHandles } from "./user-handle.js";

/** Longest passkey name kept; routes should refuse longer ones in their body schema. */
export const MAX_PASSKEY_NAME_LENGTH = 64;

/** A passkey as the user's list shows it: no key material, nothing the page does not need. */
export interface PasskeySummary {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  backedUp: boolean;
}

/** Options for `navigator.credentials.create()`, and the id to send back with the response. */
export interface PasskeyRegistrationStart {
  challengeId: string;
  options: PublicKeyCredentialCreationOptionsJSON;
}

/** Options for `navigator.credentials.get()`, and the id to send back with the response. */
export interface PasskeyAuthenticationStart {
  challengeId: string;
  options: PublicKeyCredentialRequestOptionsJSON;
}

/** A verified passkey login: whom to log in, with which credential. */
export interface PasskeyLogin<ID = unknown> {
  userId: ID;
  credentialId: string;
  /** Whether the authenticator verified the user (always true with `userVerification: "required"`). */
  userVerified: boolean;
}

/**
 * Who hears that a passkey was added or removed (ASVS 5.0 6.3.6): a `UserManager`, whose
 * `onSecurityEvent` runs the app's hook. Given per call, as managers are built per request.
 */
export interface PasskeyEventSink<U> {
  onSecurityEvent(user: U, event: SecurityEvent, context?: unknown): Promise<void> | void;
}

interface ChallengeRecord {
  purpose: "register" | "login";
  challenge: string;
  /** The user handle (base64url) a registration challenge was issued to. */
  user?: string;
  expiresAt: number;
}

// WebAuthn caps credential ids at 1023 bytes: 1364 base64url characters.
const CREDENTIAL_ID = /^[A-Za-z0-9_-]{1,1364}$/;
const COUNTER_RETRIES = 3;
// EdDSA, ES256, RS256: what authenticators make. Not the library's default on a runtime
// with post-quantum support, which puts ML-DSA-44 (experimental in Node) first.
const ALGORITHMS = [-8, -7, -257];

/**
 * Passkeys (WebAuthn discoverable credentials) for Tessera users, framework-neutral: a
 * logged-in user registers, lists and removes passkeys; anyone logs in with one without
 * typing a username. RP ID and origins come from configuration only, challenges are
 * single-use, short-lived and bound to their purpose, and signature counters are checked
 * and written with one conditional write. Verification is `@simplewebauthn/server`'s.
 *
 * @example
 * ```ts
 * const passkeys = new PasskeyService({
 *   database: userDb, // an MfaDatabase
 *   rpId: "example.com",
 *   rpName: "Example",
 *   origins: "https://example.com",
 *   userHandleSecret: process.env.PASSKEY_USER_HANDLE_SECRET!,
 * });
 * const { challengeId, options } = await passkeys.authenticationOptions();
 * // … the browser answers navigator.credentials.get({ publicKey: options }) …
 * const { userId } = await passkeys.verifyAuthentication(response, { challengeId });
 * ```
 */
export class PasskeyService<ID = unknown> {
  readonly #db: PasskeyDatabase<ID>;
  readonly #rpId: string;
  readonly #rpName: string;
  readonly #origins: string[];
  readonly #handles: UserHandles;
  readonly #uv: PasskeyUserVerification;
  readonly #ttl: number;
  readonly #challenges: ChallengeStore;
  readonly #userName: (user: PasskeyUser<ID>) => string;
  readonly #key: (id: ID) => string;
  readonly #now: () => Date;

  constructor(options: PasskeyServiceOptions<ID>) {
    this.#db = options.database;
    this.#rpId = checkRpId(options.rpId);
    this.#rpName = options.rpName;
    this.#origins = checkOrigins(this.#rpId, options.origins);
    this.#handles = new UserHandles(options.userHandleSecret);
    this.#uv = options.userVerification ?? "required";
    this.#ttl = options.timeoutSeconds ?? 300;
    if (!Number.isInteger(this.#ttl) || this.#ttl < 10 || this.#ttl > 600) {
      throw new RangeError("passkeys: timeoutSeconds must be an integer from 10 to 600");
    }
    this.#challenges = options.challengeStore ?? new MemoryChallengeStore();
    this.#userName = options.userName ?? ((user) => user.email);
    this.#key = options.userIdToString ?? String;
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * Starts registering a passkey for a logged-in user: a discoverable credential (resident
   * key required), none of the user's existing passkeys again, and an opaque user handle.
   */
  async registrationOptions(user: PasskeyUser<ID>): Promise<PasskeyRegistrationStart> {
    const existing = await this.#db.listPasskeys(user.id);
    const userID = this.#handles.current(this.#key(user.id));
    const name = this.#userName(user);
    const options = await generateRegistrationOptions({
      rpName: this.#rpName,
      rpID: this.#rpId,
      userName: name,
      userDisplayName: name,
      userID: new Uint8Array(userID),
      timeout: this.#ttl * 1000,
      attestationType: "none",
      excludeCredentials: existing.map(({ id, transports }) => ({ id, transports })),
      authenticatorSelection: {
        residentKey: "required",
        requireResidentKey: true,
        userVerification: this.#uv,
      },
      extensions: { credProps: true },
      supportedAlgorithmIDs: ALGORITHMS,
    });
    const challengeId = await this.#issue({
      purpose: "register",
      challenge: options.challenge,
      user: options.user.id,
    });
    return { challengeId, options };
  }

  /**
   * Verifies the browser's answer to {@link registrationOptions} and stores the passkey.
   * Throws `PasskeyChallengeError`, `PasskeyVerificationError`, or core's
   * `PasskeyAlreadyRegisteredError` for a credential id registered already.
   */
  async verifyRegistration<U extends PasskeyUser<ID>>(
    user: U,
    response: RegistrationResponseJSON,
    options: {
      challengeId: string;
      name?: string;
      events?: PasskeyEventSink<U>;
      context?: unknown;
    },
  ): Promise<PasskeySummary> {
    const record = await this.#take(options.challengeId, "register");
    if (!this.#handles.matches(this.#key(user.id), record.user ?? "")) {
      throw new PasskeyChallengeError("This registration challenge was issued to another user");
    }
    const verified = await attempt(() =>
      verifyRegistrationResponse({
        response,
        expectedChallenge: record.challenge,
        expectedOrigin: this.#origins,
        expectedRPID: this.#rpId,
        expectedType: "webauthn.create",
        requireUserPresence: true,
        supportedAlgorithmIDs: ALGORITHMS,
        requireUserVerification: this.#uv === "required",
      }),
    );
    if (!verified.verified) throw new PasskeyVerificationError();
    if (response.clientExtensionResults?.credProps?.rk === false) {
      // A non-discoverable credential cannot log in without a username: refuse it now
      // rather than let the user find out at their next login.
      throw new PasskeyVerificationError("The authenticator made a non-discoverable credential");
    }
    const info = verified.registrationInfo;
    if (!CREDENTIAL_ID.test(info.credential.id)) {
      throw new PasskeyVerificationError("The credential id is longer than WebAuthn allows");
    }
    const now = this.#now();
    const stored: PasskeyCredential = {
      id: info.credential.id,
      publicKey: Buffer.from(info.credential.publicKey).toString("base64url"),
      counter: info.credential.counter,
      transports: [...(info.credential.transports ?? [])],
      name: passkeyName(options.name),
      backedUp: info.credentialBackedUp,
      createdAt: now,
      lastUsedAt: null,
    };
    await this.#db.addPasskey(user.id, stored);
    await options.events?.onSecurityEvent(
      user,
      { type: "passkey_added", credentialId: stored.id, name: stored.name },
      options.context,
    );
    return summary(stored);
  }

  /** Starts a passkey login with no username: empty `allowCredentials` (discoverable credentials). */
  async authenticationOptions(): Promise<PasskeyAuthenticationStart> {
    const options = await generateAuthenticationOptions({
      rpID: this.#rpId,
      allowCredentials: [],
      timeout: this.#ttl * 1000,
      userVerification: this.#uv,
    });
    const challengeId = await this.#issue({ purpose: "login", challenge: options.challenge });
    return { challengeId, options };
  }

  /**
   * Verifies the browser's answer to {@link authenticationOptions} and returns whom to log
   * in. The credential's owner must be the response's user handle; a counting authenticator
   * must count up (else `PasskeyCounterError`), written with a conditional write so one
   * assertion logs in once. The caller still checks the user exists and is active.
   */
  async verifyAuthentication(
    response: AuthenticationResponseJSON,
    options: { challengeId: string },
  ): Promise<PasskeyLogin<ID>> {
    const record = await this.#take(options.challengeId, "login");
    const credentialId: unknown = response?.id;
    if (typeof credentialId !== "string" || !CREDENTIAL_ID.test(credentialId)) {
      throw new PasskeyVerificationError("Malformed passkey response");
    }
    const found = await this.#db.getPasskey(credentialId);
    if (found === null) throw new PasskeyUnknownCredentialError();
    const userHandle: unknown = response.response?.userHandle;
    if (
      typeof userHandle !== "string" ||
      !this.#handles.matches(this.#key(found.userId), userHandle)
    ) {
      throw new PasskeyUserHandleMismatchError();
    }
    const { credential } = found;
    const verified = await attempt(() =>
      verifyAuthenticationResponse({
        response,
        expectedChallenge: record.challenge,
        expectedOrigin: this.#origins,
        expectedRPID: this.#rpId,
        expectedType: "webauthn.get",
        // The counter is checked below, after the signature, against a fresh read.
        credential: {
          id: credential.id,
          publicKey: Buffer.from(credential.publicKey, "base64url"),
          counter: 0,
          transports: credential.transports,
        },
        requireUserVerification: this.#uv === "required",
      }),
    );
    if (!verified.verified) throw new PasskeyVerificationError("Passkey signature is invalid");
    await this.#advanceCounter(
      credential.id,
      credential.counter,
      verified.authenticationInfo.newCounter,
    );
    return {
      userId: found.userId,
      credentialId: credential.id,
      userVerified: verified.authenticationInfo.userVerified,
    };
  }

  /** The user's passkeys, oldest first, as the account page lists them. */
  async listPasskeys(user: PasskeyUser<ID>): Promise<PasskeySummary[]> {
    return (await this.#db.listPasskeys(user.id)).map(summary);
  }

  /**
   * Removes one of the user's passkeys (ASVS 5.0 6.5.6) and tells `events`; false when it
   * is not one of theirs (a 404 for the route, whoever's it is).
   */
  async removePasskey<U extends PasskeyUser<ID>>(
    user: U,
    credentialId: string,
    options: { events?: PasskeyEventSink<U>; context?: unknown } = {},
  ): Promise<boolean> {
    if (typeof credentialId !== "string" || !CREDENTIAL_ID.test(credentialId)) return false;
    const passkey = (await this.#db.listPasskeys(user.id)).find((p) => p.id === credentialId);
    if (passkey === undefined || !(await this.#db.removePasskey(user.id, credentialId)))
      return false;
    await options.events?.onSecurityEvent(
      user,
      { type: "passkey_removed", credentialId, name: passkey.name },
      options.context,
    );
    return true;
  }

  async #issue(record: Omit<ChallengeRecord, "expiresAt">): Promise<string> {
    const id = randomBytes(32).toString("base64url");
    const full: ChallengeRecord = {
      ...record,
      expiresAt: this.#now().getTime() + this.#ttl * 1000,
    };
    await this.#challenges.put(id, JSON.stringify(full), this.#ttl);
    return id;
  }

  /** Takes the challenge (used up whatever follows), checking its purpose and age. */
  async #take(challengeId: string, purpose: ChallengeRecord["purpose"]): Promise<ChallengeRecord> {
    if (typeof challengeId !== "string" || !/^[A-Za-z0-9_-]{43}$/.test(challengeId)) {
      throw new PasskeyChallengeError();
    }
    const raw = await this.#challenges.take(challengeId);
    if (raw === null) throw new PasskeyChallengeError();
    const record = JSON.parse(raw) as ChallengeRecord;
    if (record.purpose !== purpose) {
      throw new PasskeyChallengeError(
        `This challenge was issued for ${record.purpose}, not ${purpose}`,
      );
    }
    if (record.expiresAt <= this.#now().getTime())
      throw new PasskeyChallengeError("Expired passkey challenge");
    return record;
  }

  /**
   * Writes the new counter only over the one this login read. A lost race re-reads: a
   * higher counter from the same authenticator may still go on; an equal one (the same
   * assertion, or a clone) is refused.
   */
  async #advanceCounter(credentialId: string, stored: number, next: number): Promise<void> {
    let expected = stored;
    for (let round = 0; ; round++) {
      if ((next > 0 || expected > 0) && next <= expected) throw new PasskeyCounterError();
      if (await this.#db.updatePasskeyCounter(credentialId, expected, next, this.#now())) return;
      const again = await this.#db.getPasskey(credentialId);
      if (again === null) throw new PasskeyUnknownCredentialError();
      if (round >= COUNTER_RETRIES)
        throw new PasskeyCounterError("The passkey's counter kept changing");
      expected = again.credential.counter;
    }
  }
}

/** Runs a simplewebauthn verification, turning what it throws into a typed error. */
async function attempt<T>(verify: () => Promise<T>): Promise<T> {
  try {
    return await verify();
  } catch (error) {
    if (error instanceof PasskeyError) throw error;
    throw new PasskeyVerificationError(
      error instanceof Error ? `Passkey verification failed: ${error.message}` : undefined,
      { cause: error },
    );
  }
}

function passkeyName(name: string | undefined): string {
  const trimmed = [...(typeof name === "string" ? name.trim() : "")]
    .slice(0, MAX_PASSKEY_NAME_LENGTH)
    .join("")
    .trim();
  return trimmed === "" ? "Passkey" : trimmed;
}

function summary(passkey: PasskeyCredential): PasskeySummary {
  return {
    id: passkey.id,
    name: passkey.name,
    createdAt: passkey.createdAt,
    lastUsedAt: passkey.lastUsedAt,
    backedUp: passkey.backedUp,
  };
}
