import { describe, expect, it } from "vitest";
import { AuthenticationBackend } from "./backend.js";
import { ServiceUnavailableError, StrategyDestroyNotSupportedError } from "./errors.js";
import type { UserManager } from "./manager/user-manager.js";
import type { Strategy } from "./strategy/base.js";
import type { MemoryUser } from "./testing/memory.js";
import { BearerTransport } from "./transport/bearer.js";
import { CookieTransport } from "./transport/cookie.js";

const alice: MemoryUser = {
  id: "8c1f4e1e-2a2b-4c3d-9e8f-0123456789ab",
  email: "alice@example.com",
  hashedPassword: "x",
  isActive: true,
  isSuperuser: false,
  isVerified: true,
};

/** A strategy over a Map: token -> user id; destroy behaviour is configurable. */
class MapStrategy implements Strategy<MemoryUser, string> {
  readonly tokens = new Map<string, string>();
  private counter = 0;
  constructor(private readonly destroyError?: Error) {}
  async readToken(token: string | null, userManager: UserManager<MemoryUser, string>) {
    const id = token === null ? undefined : this.tokens.get(token);
    return id === undefined ? null : userManager.userDb.get(id);
  }
  async writeToken(user: MemoryUser) {
    const token = `tok-${++this.counter}`;
    this.tokens.set(token, user.id);
    return token;
  }
  async destroyToken(token: string) {
    if (this.destroyError) throw this.destroyError;
    this.tokens.delete(token);
  }
  async destroyAllTokens(user: MemoryUser) {
    if (this.destroyError) throw this.destroyError;
    for (const [token, id] of this.tokens) if (id === user.id) this.tokens.delete(token);
  }
}

const bearer = (strategy: Strategy<MemoryUser, string>) =>
  new AuthenticationBackend<MemoryUser, string>({
    name: "bearer",
    transport: new BearerTransport({ tokenUrl: "auth/login" }),
    getStrategy: () => strategy,
  });

describe("AuthenticationBackend", () => {
  it("keeps its name, transport and request-scoped strategy factory", async () => {
    const strategy = new MapStrategy();
    const seen: unknown[] = [];
    const backend = new AuthenticationBackend<MemoryUser, string, { id: number }>({
      name: "db",
      transport: new CookieTransport(),
      getStrategy: async (ctx) => {
        seen.push(ctx);
        return strategy;
      },
    });
    expect(backend.name).toBe("db");
    expect(backend.transport).toBeInstanceOf(CookieTransport);
    expect(await backend.getStrategy({ id: 1 })).toBe(strategy);
    expect(seen).toEqual([{ id: 1 }]);
  });

  it("login writes a token and answers with the transport's login response", async () => {
    const strategy = new MapStrategy();
    const response = await bearer(strategy).login(strategy, alice);
    expect(response).toEqual({
      status: 200,
      body: { access_token: "tok-1", token_type: "bearer" },
      headers: { "cache-control": "no-store", pragma: "no-cache" },
    });
    expect(strategy.tokens.get("tok-1")).toBe(alice.id);
  });

  it("login through a cookie transport answers 204 with the token cookie", async () => {
    const strategy = new MapStrategy();
    const backend = new AuthenticationBackend<MemoryUser, string>({
      name: "cookie",
      transport: new CookieTransport(),
      getStrategy: () => strategy,
    });
    const response = await backend.login(strategy, alice);
    expect(response.status).toBe(204);
    expect(response.cookies?.[0]).toMatchObject({ name: "tessera_auth", value: "tok-1" });
  });

  it("logout destroys the token and answers with the transport's logout response", async () => {
    const strategy = new MapStrategy();
    const backend = bearer(strategy);
    await backend.login(strategy, alice);
    expect(await backend.logout(strategy, alice, "tok-1")).toEqual({ status: 204 });
    expect(strategy.tokens.size).toBe(0);
  });

  it("logout still answers when the strategy cannot destroy tokens", async () => {
    const strategy = new MapStrategy(new StrategyDestroyNotSupportedError());
    expect(await bearer(strategy).logout(strategy, alice, "tok-1")).toEqual({ status: 204 });
  });

  it("logout rethrows any other error (a store that is down is not a logout)", async () => {
    const down = new ServiceUnavailableError();
    const strategy = new MapStrategy(down);
    await expect(bearer(strategy).logout(strategy, alice, "tok-1")).rejects.toBe(down);
    const plain = new Error("boom");
    await expect(
      bearer(new MapStrategy(plain)).logout(new MapStrategy(plain), alice, "t"),
    ).rejects.toBe(plain);
  });

  it("logoutAll destroys every token of the user; not-supported propagates", async () => {
    const strategy = new MapStrategy();
    const backend = bearer(strategy);
    await backend.login(strategy, alice);
    await backend.login(strategy, alice);
    await backend.login(strategy, { ...alice, id: "other" });
    expect(await backend.logoutAll(strategy, alice)).toEqual({ status: 204 });
    expect([...strategy.tokens.values()]).toEqual(["other"]);
    const unsupported = new MapStrategy(new StrategyDestroyNotSupportedError());
    await expect(bearer(unsupported).logoutAll(unsupported, alice)).rejects.toBeInstanceOf(
      StrategyDestroyNotSupportedError,
    );
  });
});
