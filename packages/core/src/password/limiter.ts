/**
 * At most `limit` tasks at once; the rest wait in arrival order. Password hashing uses it:
 * argon2id runs on libuv's thread pool, and as many hashes as the pool has threads would
 * take every core from the event loop (on 2 cores, 4 hashes starve it), so a login storm
 * would slow down every authenticated request of the process.
 */
export class ConcurrencyLimiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {}

  /** Tasks running now. */
  get running(): number {
    return this.active;
  }

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `task` once a slot is free; the slot is released however it settles. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next task: `active` never dips, so no newcomer can
      // overtake a waiting task.
      if (next) next();
      else this.active--;
    }
  }
}
