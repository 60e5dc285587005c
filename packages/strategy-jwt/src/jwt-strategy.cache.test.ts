// The verified-token cache skips the signature check of a token seen before; it must never
// let through what a full verification or the revocation store would refuse.
import { describe, expect, it } from "vitest";
import { MemoryJwtRevocationStore } from "./revocation/memory.js";
import { claimsFor, manualClock, SECRET, setup, sign } from "./test-utils/fixtures.js";
import { VerifiedTokenCache } from "./verified-cache.js";

describe("JWTStrategy's verified-token cache", () => {
  it("refuses a cached token once it has expired, to the second as jose does", async () => {
    const time = manualClock();
    const { strategy, manager, addUser } = setup({
      secret: SECRET,
      lifetimeSeconds: 60,
      clock: time.clock,
    });
    const user = await addUser();
    const token = await strategy.writeToken(user);
    expect(await strategy.readToken(token, manager)).toEqual(user); // now cached
    time.advance(59_000 - 100 + 999); // the last millisecond of the last valid second
    expect(await strategy.readToken(token, manager)).toEqual(user);
    time.advance(1);
    expect(await strategy.readToken(token, manager)).toBeNull();
  });

  it("refuses a cached token after logout (revocation is asked on every request)", async () => {
    const { strategy, manager, addUser } = setup({
      secret: SECRET,
      revocationStore: new MemoryJwtRevocationStore(),
    });
    const user = await addUser();
    const token = await strategy.writeToken(user);
    expect(await strategy.readToken(token, manager)).toEqual(user);
    await strategy.destroyToken(token, user);
    expect(await strategy.readToken(token, manager)).toBeNull();
  });

  it("refuses a cached token after log-out-everywhere", async () => {
    const { strategy, manager, addUser } = setup({
      secret: SECRET,
      revocationStore: new MemoryJwtRevocationStore(),
    });
    const user = await addUser();
    const token = await strategy.writeToken(user);
    expect(await strategy.readToken(token, manager)).toEqual(user);
    await strategy.destroyAllTokens(user);
    expect(await strategy.readToken(token, manager)).toBeNull();
  });

  it("refuses a cached token's user once deleted or deactivated (the user is read every time)", async () => {
    const { strategy, manager, db, addUser } = setup();
    const user = await addUser();
    const token = await strategy.writeToken(user);
    expect(await strategy.readToken(token, manager)).toEqual(user);
    await db.delete(user);
    expect(await strategy.readToken(token, manager)).toBeNull();
  });

  it("does not serve a tampered copy of a cached token", async () => {
    const { strategy, manager, addUser } = setup();
    const user = await addUser();
    const token = await strategy.writeToken(user);
    expect(await strategy.readToken(token, manager)).toEqual(user);
    // Not the last character: its low bits are base64url padding, which decoders drop, so
    // A<->B there is the same signature (and the test failed one run in sixteen).
    const at = token.length - 5;
    const tampered = `${token.slice(0, at)}${token[at] === "A" ? "B" : "A"}${token.slice(at + 1)}`;
    expect(await strategy.readToken(tampered, manager)).toBeNull();
  });

  it("is not shared between strategies (another key or audience verifies on its own)", async () => {
    const one = setup();
    const other = setup({ secret: `${SECRET}-other` });
    const user = await one.addUser();
    const token = await one.strategy.writeToken(user);
    expect(await one.strategy.readToken(token, one.manager)).toEqual(user);
    expect(await other.strategy.readToken(token, one.manager)).toBeNull();
  });

  it("verifies tokens carrying nbf in full every time (the cache does not replay nbf)", async () => {
    const time = manualClock();
    const { strategy, manager, addUser } = setup({ secret: SECRET, clock: time.clock });
    const user = await addUser();
    const now = time.clock();
    const token = await sign({ ...claimsFor(user.id, now), nbf: Math.floor(now / 1000) });
    expect(await strategy.readToken(token, manager)).toEqual(user);
    expect(await strategy.readToken(token, manager)).toEqual(user);
  });

  it("works with the cache turned off, and refuses a negative size", async () => {
    const { strategy, manager, addUser } = setup({ secret: SECRET, verifiedTokenCacheSize: 0 });
    const user = await addUser();
    const token = await strategy.writeToken(user);
    expect(await strategy.readToken(token, manager)).toEqual(user);
    expect(await strategy.readToken(token, manager)).toEqual(user);
    expect(() => setup({ secret: SECRET, verifiedTokenCacheSize: -1 })).toThrow(
      /verifiedTokenCacheSize/,
    );
  });
});

describe("VerifiedTokenCache", () => {
  const claims = (exp: number) => ({ sub: "u", jti: "j", exp, issuedAt: 0, handle: "h" });

  it("holds at most maxEntries tokens, dropping the oldest", () => {
    const cache = new VerifiedTokenCache(2);
    cache.set("a", claims(100));
    cache.set("b", claims(100));
    cache.set("c", claims(100));
    expect(cache.size).toBe(2);
    expect(cache.get("a", 0)).toBeUndefined();
    expect(cache.get("b", 0)?.sub).toBe("u");
    expect(cache.get("c", 0)?.sub).toBe("u");
  });

  it("drops an entry once expired: exp <= floor(now in seconds)", () => {
    const cache = new VerifiedTokenCache(10);
    cache.set("a", claims(100));
    expect(cache.get("a", 99_999)).toBeDefined();
    expect(cache.get("a", 100_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("hands out frozen claims, so no caller can alter what the next request reads", () => {
    const cache = new VerifiedTokenCache(10);
    cache.set("a", claims(100));
    expect(Object.isFrozen(cache.get("a", 0))).toBe(true);
  });
});

describe("VerifiedTokenCache keys", () => {
  it("a token that shares the cached one's tail but not its text misses", () => {
    const cache = new VerifiedTokenCache(10);
    const tail = "s".repeat(100);
    cache.set(`header.payload-1.${tail}`, {
      sub: "one",
      jti: "j",
      exp: 100,
      issuedAt: 0,
      handle: "h",
    });
    expect(cache.get(`header.payload-2.${tail}`, 0)).toBeUndefined();
    expect(cache.get(`header.payload-1.${tail}`, 0)?.sub).toBe("one");
  });
});
