import {
  InvalidSessionDataError,
  SessionDataTooLargeError,
  SessionNotSupportedError,
} from "@tessera/core";
import { describe, expect, it } from "vitest";
import { JWT_SESSION_CLAIM, JWTStrategy } from "./jwt-strategy.js";
import { MemoryJwtRevocationStore } from "./revocation/memory.js";
import { claimsFor, decode, manualClock, SECRET, setup, sign } from "./test-utils/fixtures.js";

// Issue 14: JWT sessions are the stateless case of the session contract.
describe("JWTStrategy sessions", () => {
  it("readSession: handle from jti (never the token), createdAt = issue time, expiresAt = exp", async () => {
    const clock = manualClock();
    const { strategy, manager, addUser } = setup({ secret: SECRET, clock: clock.clock });
    const user = await addUser();
    const token = await strategy.writeSession(user, { claims: { role: "editor" } });
    const { payload } = decode(token);
    const read = await strategy.readSession(token, manager);
    expect(read?.user).toEqual(user);
    const session = read?.session;
    expect(session).toMatchObject({
      userId: user.id,
      createdAt: new Date(clock.clock()),
      expiresAt: new Date((payload.exp ?? 0) * 1000),
      absoluteExpiresAt: new Date((payload.exp ?? 0) * 1000),
      lastUsedAt: null,
      device: { ipAddress: null, userAgent: null },
      claims: { role: "editor" },
    });
    expect(session?.handle).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(session?.handle).toBe(JWTStrategy.sessionHandle(payload.jti as string));
    for (const part of token.split(".")) expect(part).not.toContain(session?.handle);
    expect(session?.handle).not.toBe(payload.jti);
    // The claims travel under one claim name, never beside the registered ones.
    expect(payload[JWT_SESSION_CLAIM]).toEqual({ role: "editor" });
    expect(payload.role).toBeUndefined();
  });

  it("a token without custom claims has none (no `ext` written), and a bad token reads null", async () => {
    const { strategy, manager, addUser } = setup();
    const user = await addUser();
    const token = await strategy.writeToken(user);
    expect(decode(token).payload[JWT_SESSION_CLAIM]).toBeUndefined();
    expect((await strategy.readSession(token, manager))?.session.claims).toEqual({});
    expect(await strategy.readSession("garbage", manager)).toBeNull();
    expect(await strategy.readSession(null, manager)).toBeNull();
  });

  it("reissue: same session (handle, jti, exp), the new claims; the claims are cached per token", async () => {
    const clock = manualClock();
    const { strategy, manager, addUser } = setup({ secret: SECRET, clock: clock.clock });
    const user = await addUser();
    const first = await strategy.writeSession(user, { claims: { a: 1 } });
    clock.advance(5000);
    const second = await strategy.reissue(first, { a: 1, b: { c: true } });
    expect(second).not.toBeNull();
    const one = await strategy.readSession(first, manager);
    const two = await strategy.readSession(second as string, manager);
    expect(two?.session.handle).toBe(one?.session.handle);
    expect(two?.session.expiresAt).toEqual(one?.session.expiresAt);
    expect(two?.session.createdAt).toEqual(one?.session.createdAt);
    expect(one?.session.claims).toEqual({ a: 1 });
    expect(two?.session.claims).toEqual({ a: 1, b: { c: true } });
    expect(Object.isFrozen(two?.session.claims)).toBe(true);
    expect(await strategy.reissue("garbage", { a: 2 })).toBeNull();
  });

  it("claims are bounded (SessionDataTooLargeError) and must be a JSON object (InvalidSessionDataError)", async () => {
    const { strategy, addUser } = setup({ secret: SECRET, maxClaimsBytes: 64 });
    const user = await addUser();
    await expect(
      strategy.writeSession(user, { claims: { x: "y".repeat(100) } }),
    ).rejects.toBeInstanceOf(SessionDataTooLargeError);
    const token = await strategy.writeToken(user);
    await expect(strategy.reissue(token, { x: "y".repeat(100) })).rejects.toBeInstanceOf(
      SessionDataTooLargeError,
    );
    await expect(strategy.reissue(token, [] as never)).rejects.toBeInstanceOf(
      InvalidSessionDataError,
    );
  });

  it("__proto__ in claims is inert: dropped on write, and on read of a token carrying one", async () => {
    const { strategy, manager, addUser } = setup();
    const user = await addUser();
    const patch = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}');
    const token = await strategy.writeSession(user, { claims: patch });
    expect((await strategy.readSession(token, manager))?.session.claims).toEqual({ ok: 1 });
    const crafted = await sign({
      ...claimsFor(user.id),
      ext: JSON.parse('{"__proto__": {"polluted": true}, "ok": 2}'),
    });
    const claims = (await strategy.readSession(crafted, manager))?.session.claims;
    expect(claims).toEqual({ ok: 2 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // A token of ours whose `ext` is no object is no session of ours.
    expect(
      await strategy.readSession(await sign({ ...claimsFor(user.id), ext: [1] }), manager),
    ).toBeNull();
  });

  it("server-side data is not supported: writeSession with data names what to configure", async () => {
    const { strategy, addUser } = setup();
    const user = await addUser();
    const written = strategy.writeSession(user, { data: { cart: 1 } });
    await expect(written).rejects.toBeInstanceOf(SessionNotSupportedError);
    await expect(written).rejects.toThrow(/DatabaseStrategy, RedisStrategy/);
    expect((strategy as { sessions?: unknown }).sessions).toBeUndefined();
  });

  it("with a revocation store, revoking a session's token kills its re-issued tokens too (one jti)", async () => {
    const { strategy, manager, addUser } = setup({
      secret: SECRET,
      revocationStore: new MemoryJwtRevocationStore(),
    });
    const user = await addUser();
    const token = await strategy.writeSession(user, { claims: { a: 1 } });
    const again = (await strategy.reissue(token, { a: 2 })) as string;
    await strategy.destroyToken(token, user);
    expect(await strategy.readSession(token, manager)).toBeNull();
    expect(await strategy.readSession(again, manager)).toBeNull();
  });

  it("without a revocation store, a session stays valid until exp (the documented limit)", async () => {
    const clock = manualClock();
    const { strategy, manager, addUser } = setup({
      secret: SECRET,
      clock: clock.clock,
      lifetimeSeconds: 60,
    });
    const user = await addUser();
    const token = await strategy.writeSession(user);
    await expect(strategy.destroyToken(token, user)).rejects.toThrow();
    expect(await strategy.readSession(token, manager)).not.toBeNull();
    clock.advance(61_000);
    expect(await strategy.readSession(token, manager)).toBeNull();
  });
});
