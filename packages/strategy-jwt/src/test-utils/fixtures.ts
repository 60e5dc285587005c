import { generateKeyPairSync, type KeyObject, randomBytes, type webcrypto } from "node:crypto";
import { UserManager } from "@tessera/core";
import { type MemoryUser, MemoryUserDatabase } from "@tessera/core/testing";
import { type JWTPayload, SignJWT } from "jose";
import { JWTStrategy } from "../jwt-strategy.js";
import type { JwtKeyPairAlgorithm } from "../keys.js";
import type { JwtStrategyOptions } from "../options.js";

/** A 36-byte HS256 secret. */
export const SECRET = "tessera-strategy-jwt-test-secret-0001";

/** Makes a user database, a user manager over it and a strategy (HS256 unless told). */
export function setup(options: JwtStrategyOptions<string> = { secret: SECRET }) {
  const db = new MemoryUserDatabase();
  const manager = new UserManager<MemoryUser, string>({
    userDb: db,
    verificationTokenSecret: "verification-secret-verification-secret",
    resetPasswordTokenSecret: "reset-password-secret-reset-password-secret",
  });
  const strategy = new JWTStrategy<MemoryUser, string>(options);
  // Users are inserted directly: no password hashing, which these tests do not need.
  const addUser = (email = `${randomBytes(6).toString("hex")}@example.com`) =>
    db.create({
      email,
      hashedPassword: "x",
      isActive: true,
      isSuperuser: false,
      isVerified: false,
    });
  return { db, manager, strategy, addUser };
}

const pairs = new Map<JwtKeyPairAlgorithm, { privateKey: KeyObject; publicKey: KeyObject }>();

/** A key pair for `algorithm`, generated once per test file. */
export function keyPair(algorithm: JwtKeyPairAlgorithm) {
  let pair = pairs.get(algorithm);
  if (!pair) {
    if (algorithm === "RS256") pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
    else if (algorithm === "ES256") pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
    else pair = generateKeyPairSync("ed25519");
    pairs.set(algorithm, pair);
  }
  return pair;
}

/** Options of a strategy signing with a fresh key pair for `algorithm`. */
export function keyPairOptions(algorithm: JwtKeyPairAlgorithm): JwtStrategyOptions<string> {
  return { algorithm, ...keyPair(algorithm) };
}

/** A clock the test moves by hand, starting 100 ms into the current second. */
export function manualClock() {
  let now = Math.floor(Date.now() / 1000) * 1000 + 100;
  return {
    clock: () => now,
    set: (ms: number) => {
      now = ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Decodes a compact JWS without verifying it. */
export function decode(token: string): { header: Record<string, unknown>; payload: JWTPayload } {
  const [header = "", payload = ""] = token.split(".");
  return {
    header: JSON.parse(Buffer.from(header, "base64url").toString()),
    payload: JSON.parse(Buffer.from(payload, "base64url").toString()),
  };
}

/** Assembles a compact JWS from parts, signed or not: for hand-crafted forgeries. */
export function assemble(header: unknown, payload: unknown, signature = ""): string {
  return `${b64(header)}.${b64(payload)}.${signature}`;
}

/** Claims of a valid token of ours for `sub`, issued now. */
export function claimsFor(sub: unknown, now = Date.now()): JWTPayload {
  const iat = Math.floor(now / 1000);
  return {
    sub: sub as string,
    aud: ["tessera:auth"],
    iat,
    exp: iat + 3600,
    jti: randomBytes(16).toString("base64url"),
    iat_ms: now,
  };
}

/** Signs arbitrary claims with arbitrary key material, bypassing the strategy. */
export function sign(
  claims: JWTPayload,
  key: Uint8Array | KeyObject | webcrypto.CryptoKey = new TextEncoder().encode(SECRET),
  header: Record<string, unknown> = { alg: "HS256", typ: "JWT" },
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256", ...header }).sign(key);
}
