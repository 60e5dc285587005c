/**
 * A software WebAuthn authenticator for tests: ES256 keys from node:crypto, clientDataJSON,
 * authenticatorData (RP ID hash, flags, counter, attested credential data) and a "none"
 * attestation object in CBOR — real responses that @simplewebauthn/server verifies. Every
 * field can be bent (origin, RP ID, challenge, counter, user handle) to play an attacker.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";
import { type CborValue, encodeCbor } from "./cbor.js";

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;

interface Credential {
  id: Uint8Array;
  privateKey: KeyObject;
  publicKey: KeyObject;
  rpId: string;
  userHandle: string;
  counter: number;
}

export interface AuthenticatorOptions {
  /** Whether the signature counter counts (security keys) or stays 0 (synced passkeys). @default true */
  counts?: boolean;
  /** Backup eligible and backed up (a synced passkey). @default false */
  backedUp?: boolean;
  /** Whether the user is verified (UV flag). @default true */
  userVerified?: boolean;
}

/** What a ceremony may bend: the browser's origin, the RP ID it hashes, the challenge… */
export interface CeremonyOverrides {
  origin: string;
  rpId?: string;
  challenge?: string;
  type?: string;
}

const b64url = (bytes: Uint8Array | Buffer): string => Buffer.from(bytes).toString("base64url");
const sha256 = (data: Uint8Array | string): Buffer => createHash("sha256").update(data).digest();

export class SoftwareAuthenticator {
  readonly #credentials: Credential[] = [];
  readonly #options: Required<AuthenticatorOptions>;

  constructor(options: AuthenticatorOptions = {}) {
    this.#options = { counts: true, backedUp: false, userVerified: true, ...options };
  }

  /** Credentials held, newest last (base64url ids). */
  get credentialIds(): string[] {
    return this.#credentials.map((c) => b64url(c.id));
  }

  /** A second authenticator with the same keys and counters: a cloned device. */
  clone(): SoftwareAuthenticator {
    const copy = new SoftwareAuthenticator(this.#options);
    for (const c of this.#credentials) copy.#credentials.push({ ...c });
    return copy;
  }

  /** navigator.credentials.create(): a new ES256 credential with a "none" attestation. */
  register(
    options: PublicKeyCredentialCreationOptionsJSON,
    bend: CeremonyOverrides & { credentialId?: string; rk?: boolean },
  ): RegistrationResponseJSON {
    const rpId = bend.rpId ?? options.rp.id ?? new URL(bend.origin).hostname;
    for (const excluded of options.excludeCredentials ?? []) {
      if (this.#credentials.some((c) => b64url(c.id) === excluded.id)) {
        throw new Error("InvalidStateError: the authenticator holds an excluded credential");
      }
    }
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const credential: Credential = {
      id: bend.credentialId ? Buffer.from(bend.credentialId, "base64url") : randomBytes(32),
      privateKey,
      publicKey,
      rpId,
      userHandle: options.user.id,
      counter: 0,
    };
    const jwk = publicKey.export({ format: "jwk" });
    const cose = new Map<number, number | Uint8Array>([
      [1, 2], // kty: EC2
      [3, -7], // alg: ES256
      [-1, 1], // crv: P-256
      [-2, Buffer.from(jwk.x as string, "base64url")],
      [-3, Buffer.from(jwk.y as string, "base64url")],
    ]);
    const idLength = Buffer.from([credential.id.length >> 8, credential.id.length & 0xff]);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, credential.id, encodeCbor(cose)]);
    const authData = this.#authData(credential, FLAG_AT, attested);
    const attestationObject = encodeCbor(
      new Map<string, CborValue>([
        ["fmt", "none"],
        ["attStmt", new Map<string, CborValue>()],
        ["authData", authData],
      ]),
    );
    const clientDataJSON = this.#clientData("webauthn.create", options.challenge, bend);
    this.#credentials.push(credential);
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: "public-key",
      response: {
        clientDataJSON: b64url(clientDataJSON),
        attestationObject: b64url(attestationObject),
        transports: ["internal"],
      },
      clientExtensionResults: { credProps: { rk: bend.rk ?? true } },
      authenticatorAttachment: "platform",
    };
  }

  /**
   * navigator.credentials.get() with empty allowCredentials: the newest credential for the
   * RP ID (or `credentialId`), its counter advanced when the authenticator counts.
   */
  login(
    options: PublicKeyCredentialRequestOptionsJSON,
    bend: CeremonyOverrides & {
      credentialId?: string;
      userHandle?: string | null;
      counter?: number;
    },
  ): AuthenticationResponseJSON {
    const rpId = bend.rpId ?? options.rpId ?? new URL(bend.origin).hostname;
    const credential = [...this.#credentials]
      .reverse()
      .find((c) =>
        bend.credentialId ? b64url(c.id) === bend.credentialId : c.rpId === (options.rpId ?? rpId),
      );
    if (!credential) throw new Error("NotAllowedError: no credential for this RP");
    if (bend.counter !== undefined) credential.counter = bend.counter;
    else if (this.#options.counts) credential.counter += 1;
    const authData = this.#authData({ ...credential, rpId }, 0);
    const clientDataJSON = this.#clientData("webauthn.get", options.challenge, bend);
    const signature = sign(
      "sha256",
      Buffer.concat([authData, sha256(clientDataJSON)]),
      credential.privateKey,
    );
    const userHandle = bend.userHandle === undefined ? credential.userHandle : bend.userHandle;
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: "public-key",
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        ...(userHandle === null ? {} : { userHandle }),
      },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }

  #authData(credential: Credential, extraFlags: number, attested?: Buffer): Buffer {
    let flags = FLAG_UP | extraFlags;
    if (this.#options.userVerified) flags |= FLAG_UV;
    if (this.#options.backedUp) flags |= FLAG_BE | FLAG_BS;
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(credential.counter);
    return Buffer.concat([
      sha256(credential.rpId),
      Buffer.from([flags]),
      counter,
      attested ?? Buffer.alloc(0),
    ]);
  }

  #clientData(type: string, challenge: string, bend: CeremonyOverrides): Buffer {
    return Buffer.from(
      JSON.stringify({
        type: bend.type ?? type,
        challenge: bend.challenge ?? challenge,
        origin: bend.origin,
        crossOrigin: false,
      }),
    );
  }
}
