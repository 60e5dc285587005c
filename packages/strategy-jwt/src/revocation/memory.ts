import type {
  JwtRevocationStore,
  RevocationQuery,
  RevokedToken,
  RevokedUserTokens,
} from "./store.js";

/** Options of {@link MemoryJwtRevocationStore}. */
export interface MemoryJwtRevocationStoreOptions {
  /** Current time in epoch milliseconds, used to forget expired entries. @default Date.now */
  clock?: () => number;
}

interface UserCutoff {
  cutoff: number;
  expiresAt: number;
  exceptJti: string | undefined;
}

// Sweeps run when the store has doubled since the last one, so pruning costs O(1)
// amortized per write and memory stays within about twice the live entries.
const MIN_SWEEP_SIZE = 1024;

/**
 * Process-local {@link JwtRevocationStore}, for tests and single-process apps. Entries
 * are dropped once the tokens they cover have expired, so memory stays bounded by the
 * number of live revocations. Several processes need a shared store (Redis).
 *
 * @example
 * const strategy = new JWTStrategy({ secret, revocationStore: new MemoryJwtRevocationStore() });
 */
export class MemoryJwtRevocationStore implements JwtRevocationStore {
  private readonly tokens = new Map<string, number>();
  private readonly users = new Map<string, UserCutoff>();
  private readonly clock: () => number;
  private sweepAt = MIN_SWEEP_SIZE;

  constructor(options: MemoryJwtRevocationStoreOptions = {}) {
    this.clock = options.clock ?? Date.now;
  }

  /** Number of entries held (revoked ids plus user cutoffs), expired ones included until swept. */
  get size(): number {
    return this.tokens.size + this.users.size;
  }

  async revokeToken(token: RevokedToken): Promise<void> {
    const expiresAt = token.expiresAt.getTime();
    if (expiresAt <= this.clock()) return;
    this.tokens.set(token.jti, Math.max(expiresAt, this.tokens.get(token.jti) ?? 0));
    this.maybeSweep();
  }

  async revokeUserTokens(rule: RevokedUserTokens): Promise<void> {
    const current = this.live(this.users.get(rule.sub));
    const cutoff = rule.cutoff.getTime();
    // The exception goes with its cutoff: a later cutoff brings its own (or none).
    const replaces = current === undefined || cutoff >= current.cutoff;
    this.users.set(rule.sub, {
      cutoff: replaces ? cutoff : current.cutoff,
      exceptJti: replaces ? rule.exceptJti : current.exceptJti,
      expiresAt: Math.max(rule.expiresAt.getTime(), current?.expiresAt ?? 0),
    });
    this.maybeSweep();
  }

  async isRevoked(query: RevocationQuery): Promise<boolean> {
    const now = this.clock();
    const jtiExpiresAt = this.tokens.get(query.jti);
    if (jtiExpiresAt !== undefined) {
      if (jtiExpiresAt > now) return true;
      this.tokens.delete(query.jti);
    }
    const user = this.users.get(query.sub);
    if (user === undefined) return false;
    if (user.expiresAt <= now) {
      this.users.delete(query.sub);
      return false;
    }
    return query.issuedAt.getTime() <= user.cutoff && query.jti !== user.exceptJti;
  }

  /** Forgets every expired entry now; returns how many were dropped. */
  prune(): number {
    const now = this.clock();
    let dropped = 0;
    for (const map of [this.tokens, this.users] as Map<string, number | UserCutoff>[]) {
      for (const [key, value] of map) {
        if ((typeof value === "number" ? value : value.expiresAt) <= now) {
          map.delete(key);
          dropped++;
        }
      }
    }
    return dropped;
  }

  private live(cutoff: UserCutoff | undefined): UserCutoff | undefined {
    return cutoff && cutoff.expiresAt > this.clock() ? cutoff : undefined;
  }

  private maybeSweep(): void {
    if (this.size < this.sweepAt) return;
    this.prune();
    this.sweepAt = Math.max(MIN_SWEEP_SIZE, 2 * this.size);
  }
}
