import { describe, expect, it } from "vitest";
import { MemoryOAuthStateStore } from "./state-store.js";

// ASVS 5.0 10.1.2: a state is used once.
describe("MemoryOAuthStateStore", () => {
  it("consumes a state once, forgets it after its ttl", async () => {
    let now = 1_000_000;
    const store = new MemoryOAuthStateStore({ now: () => now });
    expect(await store.consume("a", 10)).toBe(true);
    expect(await store.consume("a", 10)).toBe(false);
    expect(await store.consume("b", 10)).toBe(true);
    now += 10_000;
    expect(await store.consume("a", 10)).toBe(true);
  });

  it("has one winner among concurrent consumers", async () => {
    const store = new MemoryOAuthStateStore();
    const results = await Promise.all(Array.from({ length: 20 }, () => store.consume("x", 60)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it("sweeps expired entries", async () => {
    let now = 0;
    const store = new MemoryOAuthStateStore({ now: () => now });
    for (let i = 0; i < 5; i++) await store.consume(`s${i}`, 1);
    expect(store.size).toBe(5);
    now = 120_000;
    await store.consume("later", 1);
    expect(store.size).toBe(1);
  });
});
