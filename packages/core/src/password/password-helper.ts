import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import * as argon2 from "@node-rs/argon2";
import * as bcrypt from "@node-rs/bcrypt";
import { ConfigurationError } from "../errors.js";
import { ConcurrencyLimiter } from "./limiter.js";

/** Argon2id cost parameters. */
export interface Argon2Options {
  /**
   * Memory in KiB.
   * @default 19456 (19 MiB, OWASP's argon2id floor cited by ASVS 5.0 11.4.2)
   */
  memoryCost?: number;
  /** Passes. @default 2 */
  timeCost?: number;
  /** Lanes. @default 1 */
  parallelism?: number;
  /**
   * Most hashes and verifications running at once; more wait their turn. Each one keeps a
   * core busy for tens of milliseconds on libuv's thread pool, so leaving a core to the
   * event loop keeps authenticated requests fast during a login storm (logins then queue).
   * Without this option, every PasswordHelper of the process shares one limit.
   * @default max(1, os.availableParallelism() - 1), shared process-wide
   */
  concurrency?: number;
}

/** Result of {@link PasswordHelper.verifyAndUpdate}. */
export interface VerifyResult {
  verified: boolean;
  /** A fresh argon2id hash to store when the old one was weaker or another algorithm. */
  updatedHash: string | null;
}

/** Hashes and verifies passwords. Swap it out by implementing this interface. */
export interface PasswordHelperProtocol {
  hash(password: string): Promise<string>;
  verifyAndUpdate(password: string, hash: string): Promise<VerifyResult>;
  /** A random password (for users created without one, e.g. OAuth). */
  generate(): string;
}

// @node-rs/argon2 declares Algorithm as a const enum, which isolatedModules cannot
// inline; 2 is its Argon2id member.
const ARGON2ID = 2 as NonNullable<argon2.Options["algorithm"]>;

// Version.V0x13 (`v=19`), the only version RFC 9106 specifies; 1.0 (`v=16`) hashes get upgraded.
const ARGON2_VERSION_0X13 = 1 as argon2.ParsedHashOptions["version"];

const BCRYPT_RE = /^\$2[abxy]\$\d{2}\$[./A-Za-z0-9]{53}$/;

let sharedLimiter: ConcurrencyLimiter | undefined;

/**
 * argon2id password hashing with bcrypt verification for migrated users.
 *
 * Hashing and verifying run on libuv's thread pool (native, async), so they never
 * block the event loop. Passwords are passed whole: no truncation (bcrypt's 72-byte
 * limit only applies to verifying legacy bcrypt hashes).
 *
 * @example
 * const helper = new PasswordHelper({ memoryCost: 65536, timeCost: 3 });
 * const hash = await helper.hash("correct horse battery staple");
 * const { verified, updatedHash } = await helper.verifyAndUpdate(input, hash);
 */
export class PasswordHelper implements PasswordHelperProtocol {
  private readonly options: Required<Omit<Argon2Options, "concurrency">>;
  private readonly limiter: ConcurrencyLimiter;

  constructor(options: Argon2Options = {}) {
    this.options = {
      memoryCost: options.memoryCost ?? 19456,
      timeCost: options.timeCost ?? 2,
      parallelism: options.parallelism ?? 1,
    };
    const { concurrency } = options;
    if (concurrency === undefined) {
      sharedLimiter ??= new ConcurrencyLimiter(Math.max(1, availableParallelism() - 1));
      this.limiter = sharedLimiter;
    } else if (Number.isSafeInteger(concurrency) && concurrency > 0) {
      this.limiter = new ConcurrencyLimiter(concurrency);
    } else {
      throw new ConfigurationError("PasswordHelper: concurrency must be a positive integer");
    }
  }

  /** How many hashes or verifications may run at once (see `concurrency`). */
  get concurrency(): number {
    return this.limiter.limit;
  }

  /** argon2id hash in PHC string format. */
  hash(password: string): Promise<string> {
    return this.limiter.run(() => argon2.hash(password, { ...this.options, algorithm: ARGON2ID }));
  }

  /**
   * Verifies `password` against an argon2 (any variant) or bcrypt hash and, when it
   * matches but the hash is below the current parameters, returns a new hash to store
   * (the user manager writes it on login).
   */
  async verifyAndUpdate(password: string, hash: string): Promise<VerifyResult> {
    let verified = false;
    try {
      if (typeof hash === "string" && hash.startsWith("$argon2")) {
        verified = await this.limiter.run(() => argon2.verify(hash, password));
      } else if (typeof hash === "string" && BCRYPT_RE.test(hash)) {
        verified = await this.limiter.run(() => bcrypt.verify(password, hash));
      } else {
        // No usable hash (empty, null, foreign format): spend a hash anyway, or the quick
        // answer would tell an attacker that this email has an account (ASVS 5.0 6.3.8).
        await this.hash(typeof password === "string" ? password : "");
      }
    } catch {
      // A corrupt stored hash is a failed login, not a server error.
      verified = false;
    }
    if (!verified) return { verified, updatedHash: null };
    return { verified, updatedHash: this.needsRehash(hash) ? await this.hash(password) : null };
  }

  /**
   * True when `hash` is not argon2id 1.3 at (at least) the configured parameters, with
   * at least a 16-byte salt and a 32-byte output.
   */
  needsRehash(hash: string): boolean {
    if (!hash.startsWith("$argon2id$")) return true;
    try {
      const p = argon2.parseOptions(hash);
      return (
        p.version !== ARGON2_VERSION_0X13 ||
        p.memoryCost < this.options.memoryCost ||
        p.timeCost < this.options.timeCost ||
        p.parallelism < this.options.parallelism ||
        p.saltLen < 16 ||
        p.outputLen < 32
      );
    } catch {
      return true;
    }
  }

  /** 256-bit random password, base64url. */
  generate(): string {
    return randomBytes(32).toString("base64url");
  }
}
