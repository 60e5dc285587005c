import { describe, expect, it } from "vitest";
import { jwtRevocationStoreCases } from "../testing/index.js";
import { MemoryJwtRevocationStore } from "./memory.js";

describe("MemoryJwtRevocationStore conformance", () => {
  for (const c of jwtRevocationStoreCases) it(c.name, () => c.run(new MemoryJwtRevocationStore()));

  it("passes every case against one shared store", async () => {
    const store = new MemoryJwtRevocationStore();
    for (const c of jwtRevocationStoreCases) await c.run(store);
  });
});

describe("MemoryJwtRevocationStore expiry", () => {
  function storeAt(start = 1_000_000) {
    let now = start;
    const store = new MemoryJwtRevocationStore({ clock: () => now });
    return { store, advance: (ms: number) => (now += ms), now: () => now };
  }

  it("forgets a revoked jti once the token has expired", async () => {
    const { store, advance, now } = storeAt();
    await store.revokeToken({ jti: "a", expiresAt: new Date(now() + 1000) });
    expect(await store.isRevoked({ jti: "a", sub: "u", issuedAt: new Date(now()) })).toBe(true);
    advance(1000);
    expect(await store.isRevoked({ jti: "a", sub: "u", issuedAt: new Date(now()) })).toBe(false);
    expect(store.size).toBe(0);
  });

  it("forgets a user cutoff once every token it covers has expired", async () => {
    const { store, advance, now } = storeAt();
    const cutoff = now();
    await store.revokeUserTokens({
      sub: "u",
      cutoff: new Date(cutoff),
      expiresAt: new Date(cutoff + 1000),
    });
    advance(1000);
    expect(await store.isRevoked({ jti: "x", sub: "u", issuedAt: new Date(cutoff - 1) })).toBe(
      false,
    );
    expect(store.size).toBe(0);
  });

  it("does not store a jti that has already expired", async () => {
    const { store, now } = storeAt();
    await store.revokeToken({ jti: "a", expiresAt: new Date(now()) });
    expect(store.size).toBe(0);
  });

  it("keeps the later expiry when a jti or a cutoff is revoked twice", async () => {
    const { store, advance, now } = storeAt();
    const t = now();
    await store.revokeToken({ jti: "a", expiresAt: new Date(t + 2000) });
    await store.revokeToken({ jti: "a", expiresAt: new Date(t + 1000) });
    await store.revokeUserTokens({ sub: "u", cutoff: new Date(t), expiresAt: new Date(t + 2000) });
    await store.revokeUserTokens({ sub: "u", cutoff: new Date(t), expiresAt: new Date(t + 1000) });
    advance(1500);
    expect(await store.isRevoked({ jti: "a", sub: "v", issuedAt: new Date(t) })).toBe(true);
    expect(await store.isRevoked({ jti: "b", sub: "u", issuedAt: new Date(t) })).toBe(true);
  });

  it("prune() drops every expired entry and reports how many", async () => {
    const { store, advance, now } = storeAt();
    await store.revokeToken({ jti: "short", expiresAt: new Date(now() + 10) });
    await store.revokeToken({ jti: "long", expiresAt: new Date(now() + 10_000) });
    await store.revokeUserTokens({
      sub: "u",
      cutoff: new Date(now()),
      expiresAt: new Date(now() + 10),
    });
    advance(10);
    expect(store.prune()).toBe(2);
    expect(store.size).toBe(1);
  });

  it("stays bounded under a stream of revocations that each expire (no unbounded growth)", async () => {
    const { store, advance, now } = storeAt();
    let peak = 0;
    for (let i = 0; i < 20_000; i++) {
      // Each token lives 100 ms of store time; time moves 1 ms per logout: ~100 are live.
      await store.revokeToken({ jti: `jti-${i}`, expiresAt: new Date(now() + 100) });
      if (i % 3 === 0) {
        await store.revokeUserTokens({
          sub: `u-${i}`,
          cutoff: new Date(now()),
          expiresAt: new Date(now() + 100),
        });
      }
      advance(1);
      peak = Math.max(peak, store.size);
    }
    expect(peak).toBeLessThanOrEqual(2048);
  });
});
