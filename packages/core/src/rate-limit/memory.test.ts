import { describe, expect, it } from "vitest";
import { MemoryRateLimitStore } from "./memory.js";
import { gcraConsume, type RateLimitRule } from "./store.js";

function storeAt(start = 1_000_000, maxKeys?: number) {
  let now = start;
  const store = new MemoryRateLimitStore({ clock: () => now, ...(maxKeys ? { maxKeys } : {}) });
  return { store, advance: (ms: number) => (now += ms) };
}

const FIVE_A_MINUTE: RateLimitRule = { limit: 5, windowSeconds: 60 };

describe("MemoryRateLimitStore (ASVS 5.0 2.4.1, 6.3.1)", () => {
  it("allows a burst of `limit`, then refuses with the wait until the next slot", async () => {
    const { store } = storeAt();
    const remaining: number[] = [];
    for (let i = 0; i < 5; i++) {
      const d = await store.consume("k", FIVE_A_MINUTE);
      expect(d.allowed).toBe(true);
      remaining.push(d.remaining);
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0]);
    const refused = await store.consume("k", FIVE_A_MINUTE);
    expect(refused).toEqual({ allowed: false, retryAfterMs: 12_000, remaining: 0 });
  });

  it("refills one attempt every window/limit, never more than the burst", async () => {
    const { store, advance } = storeAt();
    for (let i = 0; i < 5; i++) await store.consume("k", FIVE_A_MINUTE);
    advance(12_000);
    expect((await store.consume("k", FIVE_A_MINUTE)).allowed).toBe(true);
    expect((await store.consume("k", FIVE_A_MINUTE)).allowed).toBe(false);
    advance(10 * 60_000);
    for (let i = 0; i < 5; i++)
      expect((await store.consume("k", FIVE_A_MINUTE)).allowed).toBe(true);
    expect((await store.consume("k", FIVE_A_MINUTE)).allowed).toBe(false);
  });

  it("without backoff, refused attempts cost nothing", async () => {
    const { store } = storeAt();
    for (let i = 0; i < 5; i++) await store.consume("k", FIVE_A_MINUTE);
    for (let i = 0; i < 50; i++) {
      expect((await store.consume("k", FIVE_A_MINUTE)).retryAfterMs).toBe(12_000);
    }
  });

  it("with maxBlockSeconds, each refused attempt lengthens the wait, up to the cap", async () => {
    const { store } = storeAt();
    const rule = { limit: 2, windowSeconds: 60, maxBlockSeconds: 300 };
    await store.consume("k", rule);
    await store.consume("k", rule);
    const waits: number[] = [];
    for (let i = 0; i < 20; i++) waits.push((await store.consume("k", rule)).retryAfterMs);
    expect(waits.slice(0, 3)).toEqual([60_000, 90_000, 120_000]);
    for (let i = 1; i < waits.length; i++) {
      expect(waits[i]).toBeGreaterThanOrEqual(waits[i - 1] ?? 0);
    }
    expect(Math.max(...waits)).toBe(300_000);
  });

  it("refund gives one attempt back, and empties the key when nothing is owed", async () => {
    const { store } = storeAt();
    for (let i = 0; i < 5; i++) await store.consume("k", FIVE_A_MINUTE);
    await store.refund("k", FIVE_A_MINUTE);
    expect((await store.consume("k", FIVE_A_MINUTE)).allowed).toBe(true);
    expect((await store.consume("k", FIVE_A_MINUTE)).allowed).toBe(false);
    await store.consume("j", FIVE_A_MINUTE);
    await store.refund("j", FIVE_A_MINUTE);
    await store.refund("j", FIVE_A_MINUTE);
    expect(store.size).toBe(1);
  });

  it("keys are independent", async () => {
    const { store } = storeAt();
    for (let i = 0; i < 5; i++) await store.consume("a", FIVE_A_MINUTE);
    expect((await store.consume("a", FIVE_A_MINUTE)).allowed).toBe(false);
    expect((await store.consume("b", FIVE_A_MINUTE)).allowed).toBe(true);
  });

  it("stays bounded: past maxKeys the least recently used keys are forgotten", async () => {
    const { store } = storeAt(1_000_000, 1000);
    for (let i = 0; i < 5; i++) await store.consume("hot", FIVE_A_MINUTE);
    for (let i = 0; i < 50_000; i++) {
      await store.consume(`flood-${i}`, FIVE_A_MINUTE);
      // The victim's own key keeps being used, so it is never the least recent.
      if (i % 100 === 0) await store.consume("hot", FIVE_A_MINUTE);
      expect(store.size).toBeLessThanOrEqual(1000);
    }
    expect((await store.consume("hot", FIVE_A_MINUTE)).allowed).toBe(false);
  });

  it("forgets keys whose bucket is full again", async () => {
    const { store, advance } = storeAt();
    await store.consume("k", FIVE_A_MINUTE);
    advance(12_000);
    expect((await store.consume("k", FIVE_A_MINUTE)).remaining).toBe(4);
    advance(12_001);
    await store.refund("other", FIVE_A_MINUTE);
    expect(store.size).toBe(1);
  });

  it("rejects nonsensical rules", async () => {
    const { store } = storeAt();
    for (const rule of [
      { limit: 0, windowSeconds: 60 },
      { limit: 1.5, windowSeconds: 60 },
      { limit: 5, windowSeconds: 0 },
      { limit: 5, windowSeconds: 60, maxBlockSeconds: -1 },
    ]) {
      await expect(store.consume("k", rule)).rejects.toThrow(TypeError);
    }
  });
});

describe("gcraConsume", () => {
  it("for 20 a minute, the 21st attempt at once waits 3 s", () => {
    let tat: number | null = null;
    const rule = { limit: 20, windowSeconds: 60 };
    for (let i = 0; i < 20; i++) {
      const step = gcraConsume(tat, 0, rule);
      expect(step.decision.allowed).toBe(true);
      tat = step.next;
    }
    expect(gcraConsume(tat, 0, rule).decision).toEqual({
      allowed: false,
      retryAfterMs: 3000,
      remaining: 0,
    });
  });
});
