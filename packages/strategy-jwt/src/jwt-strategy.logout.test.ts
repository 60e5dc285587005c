import {
  AuthenticationBackend,
  BearerTransport,
  ServiceUnavailableError,
  StrategyDestroyNotSupportedError,
} from "@tessera/core";
import { describe, expect, it } from "vitest";
import { MemoryJwtRevocationStore } from "./revocation/memory.js";
import type { JwtRevocationStore } from "./revocation/store.js";
import { decode, manualClock, SECRET, setup } from "./test-utils/fixtures.js";

const withStore = (extra: object = {}) =>
  setup({ secret: SECRET, revocationStore: new MemoryJwtRevocationStore(), ...extra });

describe("JWTStrategy without a revocation store", () => {
  it("cannot log out: destroyToken and destroyAllTokens throw StrategyDestroyNotSupportedError", async () => {
    const { strategy, manager, addUser } = setup();
    const user = await addUser();
    const token = await strategy.writeToken(user);
    await expect(strategy.destroyToken(token, user)).rejects.toBeInstanceOf(
      StrategyDestroyNotSupportedError,
    );
    await expect(strategy.destroyAllTokens(user)).rejects.toBeInstanceOf(
      StrategyDestroyNotSupportedError,
    );
    // The documented limit of a stateless token: it lives until exp.
    expect(await strategy.readToken(token, manager)).toEqual(user);
  });

  it("the backend's logout still answers with the transport's logout response", async () => {
    const { strategy, addUser } = setup();
    const backend = new AuthenticationBackend({
      name: "jwt",
      transport: new BearerTransport({ tokenUrl: "auth/jwt/login" }),
      getStrategy: () => strategy,
    });
    const user = await addUser();
    const response = await backend.logout(strategy, user, await strategy.writeToken(user));
    expect(response.status).toBe(204);
  });
});

describe("JWTStrategy logout with a revocation store (ASVS 7.4.1)", () => {
  it("a logged-out token stops working; the user's other tokens keep working", async () => {
    const { strategy, manager, addUser } = withStore();
    const user = await addUser();
    const [laptop, phone] = [await strategy.writeToken(user), await strategy.writeToken(user)];
    await strategy.destroyToken(laptop, user);
    expect(await strategy.readToken(laptop, manager)).toBeNull();
    expect(await strategy.readToken(phone, manager)).toEqual(user);
  });

  it("ignores an invalid, expired or foreign token instead of throwing", async () => {
    const time = manualClock();
    const store = new MemoryJwtRevocationStore({ clock: time.clock });
    const { strategy, manager, addUser } = setup({
      secret: SECRET,
      revocationStore: store,
      clock: time.clock,
    });
    const [alice, bob] = [await addUser(), await addUser()];
    const bobs = await strategy.writeToken(bob);
    await strategy.destroyToken("garbage", alice);
    await strategy.destroyToken(bobs, alice);
    expect(await strategy.readToken(bobs, manager)).toEqual(bob);
    const old = await strategy.writeToken(alice);
    time.advance(3_600_000);
    await strategy.destroyToken(old, alice);
    expect(store.size).toBe(0);
  });

  it("remembers a revoked jti only until the token's exp", async () => {
    const store = new MemoryJwtRevocationStore();
    const { strategy, addUser } = setup({ secret: SECRET, revocationStore: store });
    const user = await addUser();
    const token = await strategy.writeToken(user);
    const revoke = store.revokeToken.bind(store);
    let expiresAt: Date | undefined;
    store.revokeToken = async (entry) => {
      expiresAt = entry.expiresAt;
      return revoke(entry);
    };
    await strategy.destroyToken(token, user);
    expect(expiresAt?.getTime()).toBe((decode(token).payload.exp as number) * 1000);
  });
});

describe("JWTStrategy log out everywhere (ASVS 7.4.1, 7.4.3)", () => {
  it("kills every older token of the user, not other users'; a new login works", async () => {
    const { strategy, manager, addUser } = withStore();
    const [alice, bob] = [await addUser(), await addUser()];
    const older = [await strategy.writeToken(alice), await strategy.writeToken(alice)];
    const bobs = await strategy.writeToken(bob);
    await strategy.destroyAllTokens(alice);
    for (const token of older) expect(await strategy.readToken(token, manager)).toBeNull();
    expect(await strategy.readToken(bobs, manager)).toEqual(bob);
  });

  it("a login right after log-out-everywhere works, on the real clock, every time", async () => {
    const { strategy, manager, addUser } = withStore();
    const user = await addUser();
    // Repeated so that some rounds start in the cutoff's millisecond; the strategy, not
    // the test, must keep those logins alive.
    for (let round = 0; round < 25; round++) {
      await strategy.destroyAllTokens(user);
      expect(await strategy.readToken(await strategy.writeToken(user), manager)).toEqual(user);
    }
  });

  it("kills a token issued earlier in the same second; a login later in that second works", async () => {
    const time = manualClock();
    const { strategy, manager, addUser } = withStore({ clock: time.clock });
    const user = await addUser();
    const before = await strategy.writeToken(user);
    time.advance(300);
    await strategy.destroyAllTokens(user);
    time.advance(300);
    const after = await strategy.writeToken(user);
    expect(decode(after).payload.iat).toBe(decode(before).payload.iat);
    expect(await strategy.readToken(before, manager)).toBeNull();
    expect(await strategy.readToken(after, manager)).toEqual(user);
  });

  it("kills a token issued in the very millisecond of the log-out-everywhere", async () => {
    const time = manualClock();
    const { strategy, manager, addUser } = withStore({ clock: time.clock });
    const user = await addUser();
    const same = await strategy.writeToken(user);
    // The clock does not move: the strategy's bounded wait gives up, and the token still dies.
    await strategy.destroyAllTokens(user);
    expect(await strategy.readToken(same, manager)).toBeNull();
  });
});

describe("JWTStrategy when a backing service fails", () => {
  const down: JwtRevocationStore = {
    revokeToken: () => Promise.reject(new ServiceUnavailableError()),
    revokeUserTokens: () => Promise.reject(new ServiceUnavailableError()),
    isRevoked: () => Promise.reject(new ServiceUnavailableError()),
  };

  it("a revocation store that is down makes readToken throw, never let the token in", async () => {
    const { strategy, manager, addUser } = setup({ secret: SECRET, revocationStore: down });
    const token = await strategy.writeToken(await addUser());
    await expect(strategy.readToken(token, manager)).rejects.toBeInstanceOf(
      ServiceUnavailableError,
    );
  });

  it("a revocation store that is down makes logout and log out everywhere throw", async () => {
    const { strategy, addUser } = setup({ secret: SECRET, revocationStore: down });
    const user = await addUser();
    const token = await strategy.writeToken(user);
    await expect(strategy.destroyToken(token, user)).rejects.toBeInstanceOf(
      ServiceUnavailableError,
    );
    await expect(strategy.destroyAllTokens(user)).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  it("a user database that is down makes readToken throw", async () => {
    const { db, strategy, manager, addUser } = setup();
    const token = await strategy.writeToken(await addUser());
    db.get = () => Promise.reject(new ServiceUnavailableError());
    await expect(strategy.readToken(token, manager)).rejects.toBeInstanceOf(
      ServiceUnavailableError,
    );
  });
});

describe("JWTStrategy.destroyAllTokens with exceptToken (ASVS 5.0 7.4.3)", () => {
  it("revokes every other token of the user and keeps the current one", async () => {
    const { strategy, manager, addUser } = withStore();
    const user = await addUser();
    const [current, laptop, phone] = [
      await strategy.writeToken(user),
      await strategy.writeToken(user),
      await strategy.writeToken(user),
    ];
    await strategy.destroyAllTokens(user, { exceptToken: current });
    expect(await strategy.readToken(current, manager)).toEqual(user);
    expect(await strategy.readToken(laptop, manager)).toBeNull();
    expect(await strategy.readToken(phone, manager)).toBeNull();
    // A later log-out-everywhere without an exception ends the kept one too.
    await strategy.destroyAllTokens(user);
    expect(await strategy.readToken(current, manager)).toBeNull();
  });

  it("a token of another user, or a forged one, spares nothing", async () => {
    const { strategy, manager, addUser } = withStore();
    const [user, other] = [await addUser(), await addUser()];
    const mine = await strategy.writeToken(user);
    const theirs = await strategy.writeToken(other);
    await strategy.destroyAllTokens(user, { exceptToken: theirs });
    expect(await strategy.readToken(mine, manager)).toBeNull();
    const again = await strategy.writeToken(user);
    await strategy.destroyAllTokens(user, { exceptToken: `${again.slice(0, -2)}xx` });
    expect(await strategy.readToken(again, manager)).toBeNull();
    expect(await strategy.readToken(theirs, manager)).toEqual(other);
  });
});
