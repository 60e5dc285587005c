import { describe, expect, it } from "vitest";
import { Authenticator, type CurrentUserOptions } from "./authenticator.js";
import { AuthenticationBackend } from "./backend.js";
import {
  ConfigurationError,
  ForbiddenError,
  ServiceUnavailableError,
  UnauthorizedError,
} from "./errors.js";
import type { UserManager } from "./manager/user-manager.js";
import type { Session } from "./session/session.js";
import type { Strategy } from "./strategy/base.js";
import { makeManager, register } from "./test-utils/manager.js";
import { authRequest } from "./test-utils/request.js";
import type { MemoryUser } from "./testing/memory.js";
import { BearerTransport } from "./transport/bearer.js";
import { CookieTransport } from "./transport/cookie.js";

type Ctx = { name: string };

/** Reads tokens of the form `<prefix>.<user id>`; anything else reads as null. */
class PrefixStrategy implements Strategy<MemoryUser, string> {
  reads: (string | null)[] = [];
  constructor(readonly prefix: string) {}
  async readToken(token: string | null, userManager: UserManager<MemoryUser, string>) {
    this.reads.push(token);
    if (!token?.startsWith(`${this.prefix}.`)) return null;
    return userManager.userDb.get(token.slice(this.prefix.length + 1));
  }
  async writeToken(user: MemoryUser) {
    return `${this.prefix}.${user.id}`;
  }
  async destroyToken() {}
  async destroyAllTokens() {}
}

function backend(
  name: string,
  transport: BearerTransport | CookieTransport,
  strategy: Strategy<MemoryUser, string>,
) {
  const factoryCalls: Ctx[] = [];
  const b = new AuthenticationBackend<MemoryUser, string, Ctx>({
    name,
    transport,
    getStrategy: (ctx) => {
      factoryCalls.push(ctx);
      return strategy;
    },
  });
  return Object.assign(b, { factoryCalls });
}

async function setup() {
  const { manager } = makeManager();
  const users = {
    plain: await register(manager, "plain@example.com"),
    inactive: await register(manager, "inactive@example.com", { isActive: false }),
    verified: await register(manager, "verified@example.com", { isVerified: true }),
    superuser: await register(manager, "root@example.com", { isSuperuser: true, isVerified: true }),
    inactiveUnverified: await register(manager, "iu@example.com", { isActive: false }),
  };
  const jwtStrategy = new PrefixStrategy("jwt");
  const dbStrategy = new PrefixStrategy("db");
  const bearerBackend = backend(
    "jwt",
    new BearerTransport({ tokenUrl: "auth/jwt/login" }),
    jwtStrategy,
  );
  const cookieBackend = backend("cookie", new CookieTransport(), dbStrategy);
  const auth = new Authenticator<MemoryUser, string, Ctx>([bearerBackend, cookieBackend]);
  const ctx: Ctx = { name: "request-1" };
  const withBearer = (token: string) => authRequest({ authorization: `Bearer ${token}` });
  const withCookie = (token: string) => authRequest({}, { tessera_auth: token });
  return {
    manager,
    users,
    jwtStrategy,
    dbStrategy,
    bearerBackend,
    cookieBackend,
    auth,
    ctx,
    withBearer,
    withCookie,
  };
}

describe("Authenticator construction", () => {
  it("refuses duplicate backend names and an empty list", () => {
    const s = new PrefixStrategy("x");
    const a = backend("same", new BearerTransport({ tokenUrl: "t" }), s);
    const b = backend("same", new CookieTransport(), s);
    expect(() => new Authenticator([a, b])).toThrow(ConfigurationError);
    expect(() => new Authenticator([a, b])).toThrow(/same/);
    expect(() => new Authenticator([])).toThrow(ConfigurationError);
  });
});

describe("Authenticator.authenticate", () => {
  it("returns the user, token, backend and strategy of the backend that read it", async () => {
    const { auth, manager, users, ctx, withBearer, bearerBackend, jwtStrategy } = await setup();
    const result = await auth.authenticate(ctx, withBearer(`jwt.${users.plain.id}`), manager);
    expect(result).toEqual({
      user: users.plain,
      token: `jwt.${users.plain.id}`,
      backend: bearerBackend,
      strategy: jwtStrategy,
      session: null,
    });
    expect(bearerBackend.factoryCalls).toEqual([ctx]);
  });

  it("issue 14: a strategy with readSession is read once, through it, and its session returned", async () => {
    const { manager, users, ctx } = await setup();
    const calls: string[] = [];
    const session: Session<string> = {
      handle: "h1",
      userId: users.plain.id,
      createdAt: new Date(0),
      expiresAt: new Date(1000),
      absoluteExpiresAt: new Date(1000),
      lastUsedAt: null,
      device: { ipAddress: null, userAgent: null },
      claims: { role: "admin" },
    };
    const withSessions: Strategy<MemoryUser, string> = {
      readToken: async () => {
        calls.push("readToken");
        return null;
      },
      readSession: async (token, userManager) => {
        calls.push(`readSession ${token}`);
        if (token !== "good") return null;
        const user = await userManager.userDb.get(users.plain.id);
        return user ? { user, session } : null;
      },
      writeToken: () => Promise.resolve("t"),
      destroyToken: () => Promise.resolve(),
      destroyAllTokens: () => Promise.resolve(),
    };
    const auth = new Authenticator<MemoryUser, string, Ctx>([
      backend("sessions", new BearerTransport({ tokenUrl: "t" }), withSessions),
    ]);
    const result = await auth.authenticate(
      ctx,
      authRequest({ authorization: "Bearer good" }),
      manager,
    );
    expect(result?.session).toBe(session);
    expect(result?.user).toEqual(users.plain);
    const refused = auth.authenticate(ctx, authRequest({ authorization: "Bearer bad" }), manager);
    await expect(refused).rejects.toBeInstanceOf(UnauthorizedError);
    expect(calls).toEqual(["readSession good", "readSession bad"]);
  });

  it("tries backends in order: the first with a user wins", async () => {
    const { auth, manager, users, ctx, bearerBackend, cookieBackend, dbStrategy } = await setup();
    const both = authRequest(
      { authorization: `Bearer jwt.${users.plain.id}` },
      { tessera_auth: `db.${users.verified.id}` },
    );
    expect((await auth.authenticate(ctx, both, manager))?.user).toEqual(users.plain);
    // A backend whose transport finds no token is skipped without building its strategy.
    expect(cookieBackend.factoryCalls).toEqual([]);
    expect(dbStrategy.reads).toEqual([]);
    // Reversed order, the cookie wins.
    const reversed = new Authenticator<MemoryUser, string, Ctx>([cookieBackend, bearerBackend]);
    expect((await reversed.authenticate(ctx, both, manager))?.user).toEqual(users.verified);
  });

  it("falls through to the next backend when a strategy reads null", async () => {
    const { auth, manager, users, ctx, jwtStrategy, cookieBackend } = await setup();
    const request = authRequest(
      { authorization: "Bearer jwt.no-such-user" },
      { tessera_auth: `db.${users.plain.id}` },
    );
    const result = await auth.authenticate(ctx, request, manager);
    expect(result?.user).toEqual(users.plain);
    expect(result?.backend).toBe(cookieBackend);
    expect(result?.token).toBe(`db.${users.plain.id}`);
    expect(jwtStrategy.reads).toEqual(["jwt.no-such-user"]);
  });

  it("only tries the named backends when `backends` is given", async () => {
    const { auth, manager, users, ctx, withBearer, withCookie } = await setup();
    await expect(
      auth.authenticate(ctx, withBearer(`jwt.${users.plain.id}`), manager, {
        backends: ["cookie"],
      }),
    ).rejects.toBeInstanceOf(UnauthorizedError);
    expect(
      (
        await auth.authenticate(ctx, withCookie(`db.${users.plain.id}`), manager, {
          backends: ["cookie"],
        })
      )?.user,
    ).toEqual(users.plain);
    expect(
      await auth.authenticate(ctx, withBearer(`jwt.${users.plain.id}`), manager, {
        backends: [],
        optional: true,
      }),
    ).toBeNull();
  });

  it("propagates a strategy's service error (503), it is not a missing user", async () => {
    const { manager, ctx } = await setup();
    const down = new ServiceUnavailableError();
    const failing: Strategy<MemoryUser, string> = {
      readToken: () => Promise.reject(down),
      writeToken: () => Promise.resolve("t"),
      destroyToken: () => Promise.resolve(),
      destroyAllTokens: () => Promise.resolve(),
    };
    const auth = new Authenticator<MemoryUser, string, Ctx>([
      backend("down", new BearerTransport({ tokenUrl: "t" }), failing),
    ]);
    await expect(
      auth.authenticate(ctx, authRequest({ authorization: "Bearer x" }), manager),
    ).rejects.toBe(down);
  });

  // The FastAPI Users table: (user, options) -> result, 401 or 403.
  type Who =
    | "none"
    | "garbage"
    | "plain"
    | "inactive"
    | "verified"
    | "superuser"
    | "inactiveUnverified";
  const cases: [Who, CurrentUserOptions, "user" | "null" | 401 | 403][] = [
    ["none", {}, 401],
    ["garbage", {}, 401],
    ["none", { optional: true }, "null"],
    ["garbage", { optional: true, active: true, verified: true }, "null"],
    ["plain", {}, "user"],
    ["inactive", {}, "user"],
    ["inactive", { active: true }, 401],
    ["inactive", { active: true, optional: true }, "null"],
    ["plain", { active: true }, "user"],
    ["plain", { verified: true }, 403],
    ["plain", { verified: true, optional: true }, "null"],
    ["verified", { verified: true }, "user"],
    ["verified", { superuser: true }, 403],
    ["verified", { superuser: true, optional: true }, "null"],
    ["superuser", { superuser: true }, "user"],
    ["superuser", { active: true, verified: true, superuser: true }, "user"],
    // Inactive wins over unverified: 401, as FastAPI Users checks `active` first.
    ["inactiveUnverified", { active: true, verified: true }, 401],
    ["inactiveUnverified", { verified: true }, 403],
    ["plain", { superuser: true }, 403],
  ];

  it.each(cases)("%s with %o -> %s", async (who, options, expected) => {
    const { auth, manager, users, ctx } = await setup();
    const request =
      who === "none"
        ? authRequest()
        : authRequest({
            authorization: `Bearer jwt.${who === "garbage" ? "nobody" : users[who].id}`,
          });
    const outcome = auth.authenticate(ctx, request, manager, options);
    if (expected === 401) await expect(outcome).rejects.toBeInstanceOf(UnauthorizedError);
    else if (expected === 403) await expect(outcome).rejects.toBeInstanceOf(ForbiddenError);
    else if (expected === "null") expect(await outcome).toBeNull();
    else expect((await outcome)?.user).toEqual(users[who as Exclude<Who, "none" | "garbage">]);
  });
});
