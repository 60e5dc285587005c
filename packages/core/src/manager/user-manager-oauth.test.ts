import { describe, expect, it } from "vitest";
import {
  OAuthAccountAlreadyLinkedError,
  OAuthNotSupportedError,
  UserAlreadyExistsError,
} from "../errors.js";
import type { UserDatabase } from "../models.js";
import type { OAuthCallbackInput } from "../oauth/models.js";
import { makeRecordingManager, PASSWORD, register } from "../test-utils/manager.js";
import { type MemoryUser, MemoryUserDatabase } from "../testing/memory.js";
import { UserManager } from "./user-manager.js";

const CTX = { request: "the HTTP context" };

const login = (overrides: Partial<OAuthCallbackInput> = {}): OAuthCallbackInput => ({
  oauthName: "google",
  accountId: "sub-1",
  accountEmail: "Ada@Example.COM",
  emailVerified: true,
  accessToken: "enc:access-1",
  expiresAt: 1_900_000_000,
  refreshToken: "enc:refresh-1",
  ...overrides,
});

describe("UserManager.oauthCallback: a first login", () => {
  it("creates an active, unverified, non-superuser user with the normalized email, links the account, calls onAfterRegister", async () => {
    const { manager, userDb, calls } = makeRecordingManager();
    const user = await manager.oauthCallback(login(), { context: CTX });
    expect(user).toMatchObject({
      email: "ada@example.com",
      isActive: true,
      isSuperuser: false,
      isVerified: false,
    });
    expect(userDb.users.size).toBe(1);
    expect(await manager.listOAuthAccounts(user)).toEqual([
      {
        id: expect.any(String),
        oauthName: "google",
        accountId: "sub-1",
        accountEmail: "ada@example.com",
        accessToken: "enc:access-1",
        expiresAt: 1_900_000_000,
        refreshToken: "enc:refresh-1",
      },
    ]);
    expect(calls).toEqual([{ hook: "onAfterRegister", args: [user, CTX] }]);
  });

  it("gives a random password nobody knows, hashed by the password helper: password login fails until a reset", async () => {
    const { manager, tokens } = makeRecordingManager();
    const user = await manager.oauthCallback(login());
    expect(user.hashedPassword).toMatch(/^\$argon2id\$/);
    for (const password of ["", PASSWORD, "enc:access-1", user.hashedPassword]) {
      expect(await manager.authenticate({ username: user.email, password })).toBeNull();
    }
    // "Forgot password" is the way to a password.
    await manager.forgotPassword(user);
    await manager.resetPassword(tokens.reset as string, "a new password 123");
    expect(
      (await manager.authenticate({ username: user.email, password: "a new password 123" }))?.id,
    ).toBe(user.id);
  });

  it("isVerified only when isVerifiedByDefault is on and the provider verified the email", async () => {
    const cases: [boolean | undefined, boolean, boolean][] = [
      [undefined, true, false],
      [false, true, false],
      [true, false, false],
      [true, true, true],
    ];
    for (const [isVerifiedByDefault, emailVerified, expected] of cases) {
      const { manager } = makeRecordingManager();
      const options = isVerifiedByDefault === undefined ? {} : { isVerifiedByDefault };
      const user = await manager.oauthCallback(login({ emailVerified }), options);
      expect(user.isVerified, `${isVerifiedByDefault} && ${emailVerified}`).toBe(expected);
    }
  });

  it("stores a null expiresAt and refresh token when the provider gave none", async () => {
    const { manager } = makeRecordingManager();
    const user = await manager.oauthCallback(
      login({ expiresAt: undefined, refreshToken: undefined }),
    );
    expect(await manager.listOAuthAccounts(user)).toMatchObject([
      { expiresAt: null, refreshToken: null },
    ]);
  });

  it("refuses a provider answer without an email (the flow answers OAUTH_NOT_AVAILABLE_EMAIL first)", async () => {
    const { manager, userDb } = makeRecordingManager();
    await expect(manager.oauthCallback(login({ accountEmail: "" }))).rejects.toThrow(TypeError);
    expect(userDb.users.size).toBe(0);
  });

  it("a link that cannot be stored deletes the user it created and calls no hook", async () => {
    class LinkFails extends MemoryUserDatabase {
      override async addOAuthAccount(): Promise<never> {
        throw new Error("database down");
      }
    }
    const userDb = new LinkFails();
    const { manager, calls } = makeRecordingManager({ userDb });
    await expect(manager.oauthCallback(login())).rejects.toThrow("database down");
    expect(userDb.users.size).toBe(0);
    expect(await manager.findByEmail("ada@example.com")).toBeNull();
    expect(calls).toEqual([]);
  });
});

describe("UserManager.oauthCallback: a linked account", () => {
  it("logs into its user and writes this login's tokens and email to the link, no hook", async () => {
    const { manager, userDb, calls } = makeRecordingManager();
    const user = await manager.oauthCallback(login());
    calls.length = 0;
    const again = await manager.oauthCallback(
      login({
        accountEmail: "Ada.New@Example.COM",
        emailVerified: false,
        accessToken: "enc:access-2",
        expiresAt: 1_950_000_000,
        refreshToken: "enc:refresh-2",
      }),
      { context: CTX },
    );
    expect(again.id).toBe(user.id);
    expect(userDb.users.size).toBe(1);
    expect(await manager.listOAuthAccounts(user)).toMatchObject([
      {
        accountEmail: "ada.new@example.com",
        accessToken: "enc:access-2",
        expiresAt: 1_950_000_000,
        refreshToken: "enc:refresh-2",
      },
    ]);
    // The user's own email is theirs: a provider's change does not rewrite it.
    expect(again.email).toBe("ada@example.com");
    expect(calls).toEqual([]);
  });

  it("keeps the stored refresh token when this login brought none (Google sends one at first consent only)", async () => {
    const { manager } = makeRecordingManager();
    const user = await manager.oauthCallback(login());
    await manager.oauthCallback(
      login({ accessToken: "enc:access-2", expiresAt: undefined, refreshToken: null }),
    );
    expect(await manager.listOAuthAccounts(user)).toMatchObject([
      { accessToken: "enc:access-2", expiresAt: null, refreshToken: "enc:refresh-1" },
    ]);
  });

  it("returns an inactive user as it is: the router refuses it, as FastAPI Users", async () => {
    const { manager } = makeRecordingManager();
    const user = await manager.oauthCallback(login());
    await manager.update({ isActive: false }, user);
    expect(await manager.oauthCallback(login())).toMatchObject({ id: user.id, isActive: false });
  });

  it("ASVS 5.0 6.8.1, 10.5.2: the same account id at another provider is another identity", async () => {
    const { manager, userDb } = makeRecordingManager();
    const ada = await manager.oauthCallback(login({ accountId: "12345" }));
    const eve = await manager.oauthCallback(
      login({ oauthName: "github", accountId: "12345", accountEmail: "eve@example.com" }),
    );
    expect(eve.id).not.toBe(ada.id);
    expect(eve.email).toBe("eve@example.com");
    expect(userDb.users.size).toBe(2);
  });
});

describe("UserManager.oauthCallback: an unknown account whose email is a user's", () => {
  it("ASVS 5.0 10.5.2: without associateByEmail -> UserAlreadyExistsError, even for a verified email; nothing linked", async () => {
    const { manager, calls } = makeRecordingManager();
    const ada = await register(manager, "ada@example.com");
    calls.length = 0;
    for (const options of [{}, { associateByEmail: false }]) {
      await expect(manager.oauthCallback(login(), options)).rejects.toBeInstanceOf(
        UserAlreadyExistsError,
      );
    }
    expect(await manager.listOAuthAccounts(ada)).toEqual([]);
    expect(calls).toEqual([]);
  });

  it("ASVS 5.0 10.5.2: associateByEmail with an email the provider did not verify -> UserAlreadyExistsError, nothing linked", async () => {
    const { manager, calls } = makeRecordingManager();
    const ada = await register(manager, "ada@example.com", { isVerified: true });
    calls.length = 0;
    await expect(
      manager.oauthCallback(login({ emailVerified: false }), { associateByEmail: true }),
    ).rejects.toBeInstanceOf(UserAlreadyExistsError);
    expect(await manager.listOAuthAccounts(ada)).toEqual([]);
    expect(calls).toEqual([]);
    // Nor did the attempt leave anything behind for the next login to use.
    await expect(
      manager.oauthCallback(login({ emailVerified: false }), { associateByEmail: true }),
    ).rejects.toBeInstanceOf(UserAlreadyExistsError);
  });

  it("associateByEmail with a verified email links the account to the user (any case), calls onAfterUpdate, not onAfterRegister", async () => {
    const { manager, userDb, calls } = makeRecordingManager();
    const ada = await register(manager, "ada@example.com");
    calls.length = 0;
    const user = await manager.oauthCallback(login(), { associateByEmail: true, context: CTX });
    expect(user.id).toBe(ada.id);
    expect(userDb.users.size).toBe(1);
    expect(await manager.listOAuthAccounts(ada)).toMatchObject([
      { oauthName: "google", accountId: "sub-1", accessToken: "enc:access-1" },
    ]);
    expect(calls).toEqual([{ hook: "onAfterUpdate", args: [user, {}, CTX] }]);
    // The password still works, and the next login finds the link.
    expect(
      await manager.authenticate({ username: "ada@example.com", password: PASSWORD }),
    ).not.toBeNull();
    expect((await manager.oauthCallback(login())).id).toBe(ada.id);
  });
});

describe("UserManager.oauthCallback: races", () => {
  it("10 parallel first logins of one account make one user and one link, and all return it", async () => {
    const { manager, userDb, calls } = makeRecordingManager();
    const users = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        manager.oauthCallback(login({ accessToken: `enc:access-${i}` })),
      ),
    );
    expect(userDb.users.size).toBe(1);
    expect(userDb.oauthAccounts.size).toBe(1);
    expect(new Set(users.map((u) => u.id))).toEqual(new Set([[...userDb.users.keys()][0]]));
    expect(calls.filter((c) => c.hook === "onAfterRegister")).toHaveLength(1);
  });

  it("a login that finds the email of a parallel first login's user not yet linked waits for the link, not a refusal", async () => {
    // The parallel login: its user is created, and its link lands a moment later.
    const { manager, userDb } = makeRecordingManager();
    const winner = await userDb.create({
      email: "ada@example.com",
      hashedPassword: "random",
      isActive: true,
      isSuperuser: false,
      isVerified: false,
    });
    const linking = new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
      userDb.addOAuthAccount(winner, {
        oauthName: "google",
        accountId: "sub-1",
        accountEmail: "ada@example.com",
        accessToken: "enc:winner",
        expiresAt: null,
        refreshToken: null,
      }),
    );
    const user = await manager.oauthCallback(login());
    await linking;
    expect(user.id).toBe(winner.id);
    expect(userDb.users.size).toBe(1);
    expect(userDb.oauthAccounts.size).toBe(1);
  });

  it("10 parallel first logins with associateByEmail link the account once to the existing user", async () => {
    const { manager, userDb } = makeRecordingManager();
    const ada = await register(manager, "ada@example.com");
    const users = await Promise.all(
      Array.from({ length: 10 }, () => manager.oauthCallback(login(), { associateByEmail: true })),
    );
    expect(users.map((u) => u.id)).toEqual(Array(10).fill(ada.id));
    expect(userDb.users.size).toBe(1);
    expect(await manager.listOAuthAccounts(ada)).toHaveLength(1);
  });

  it("a login that loses the create race to another account's user with that email gets the email rules", async () => {
    // Between this login's email lookup and its create, a registration takes the address.
    class RegistrationInBetween extends MemoryUserDatabase {
      override async create(data: Parameters<MemoryUserDatabase["create"]>[0]) {
        if (this.users.size === 0) await super.create({ ...data, hashedPassword: "theirs" });
        return super.create(data);
      }
    }
    const userDb = new RegistrationInBetween();
    const { manager } = makeRecordingManager({ userDb });
    await expect(manager.oauthCallback(login())).rejects.toBeInstanceOf(UserAlreadyExistsError);
    const linked = await manager.oauthCallback(login(), { associateByEmail: true });
    expect(linked.hashedPassword).toBe("theirs");
    expect(userDb.users.size).toBe(1);
  });
});

describe("UserManager.oauthAssociateCallback", () => {
  it("links an account with another, unverified email to the logged-in user and calls onAfterUpdate(user, {}, context)", async () => {
    const { manager, calls } = makeRecordingManager();
    const ada = await register(manager, "ada@example.com");
    calls.length = 0;
    const input = login({ accountEmail: "ada.work@corp.example", emailVerified: false });
    const user = await manager.oauthAssociateCallback(ada, input, CTX);
    expect(user.id).toBe(ada.id);
    expect(await manager.listOAuthAccounts(ada)).toMatchObject([
      { oauthName: "google", accountId: "sub-1", accountEmail: "ada.work@corp.example" },
    ]);
    expect(calls).toEqual([{ hook: "onAfterUpdate", args: [ada, {}, CTX] }]);
    expect((await manager.oauthCallback(input)).id).toBe(ada.id);
  });

  it("an account linked to another user -> OAuthAccountAlreadyLinkedError; the link and its tokens stay that user's", async () => {
    const { manager, calls } = makeRecordingManager();
    const ada = await manager.oauthCallback(login());
    const eve = await register(manager, "eve@example.com");
    calls.length = 0;
    await expect(
      manager.oauthAssociateCallback(eve, login({ accessToken: "enc:eve's" }), CTX),
    ).rejects.toBeInstanceOf(OAuthAccountAlreadyLinkedError);
    expect(await manager.listOAuthAccounts(eve)).toEqual([]);
    expect(await manager.listOAuthAccounts(ada)).toMatchObject([{ accessToken: "enc:access-1" }]);
    expect(calls).toEqual([]);
  });

  it("an account linked to this user already: its tokens are refreshed, no error", async () => {
    const { manager, calls } = makeRecordingManager();
    const ada = await manager.oauthCallback(login());
    calls.length = 0;
    await manager.oauthAssociateCallback(ada, login({ accessToken: "enc:access-2" }), CTX);
    expect(await manager.listOAuthAccounts(ada)).toMatchObject([
      { accessToken: "enc:access-2", refreshToken: "enc:refresh-1" },
    ]);
    expect(calls).toEqual([{ hook: "onAfterUpdate", args: [ada, {}, CTX] }]);
  });

  it("parallel links of one account to two users: one wins, the other gets OAuthAccountAlreadyLinkedError", async () => {
    const { manager, userDb } = makeRecordingManager();
    const ada = await register(manager, "ada@example.com");
    const eve = await register(manager, "eve@example.com");
    const results = await Promise.allSettled([
      manager.oauthAssociateCallback(ada, login()),
      manager.oauthAssociateCallback(eve, login()),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(OAuthAccountAlreadyLinkedError);
    expect(userDb.oauthAccounts.size).toBe(1);
  });
});

describe("UserManager.listOAuthAccounts / removeOAuthAccount", () => {
  it("unlinks by the link's id, even the last one, and calls onAfterUpdate; the account no longer logs in", async () => {
    const { manager, calls } = makeRecordingManager();
    const ada = await manager.oauthCallback(login());
    await manager.oauthAssociateCallback(ada, login({ oauthName: "github", accountId: "42" }));
    const [google, github] = await manager.listOAuthAccounts(ada);
    calls.length = 0;
    expect(await manager.removeOAuthAccount(ada, google?.id as string, CTX)).toBe(true);
    expect(calls).toEqual([{ hook: "onAfterUpdate", args: [ada, {}, CTX] }]);
    expect(await manager.listOAuthAccounts(ada)).toEqual([github]);
    expect(await manager.removeOAuthAccount(ada, github?.id as string)).toBe(true);
    expect(await manager.listOAuthAccounts(ada)).toEqual([]);
    // The account is now unknown; the email is Ada's, so the email rules apply.
    await expect(manager.oauthCallback(login())).rejects.toBeInstanceOf(UserAlreadyExistsError);
  });

  it("another user's link, an unknown id or the provider's account id -> false, nothing changes, no hook", async () => {
    const { manager, calls } = makeRecordingManager();
    const ada = await manager.oauthCallback(login());
    const eve = await manager.oauthCallback(
      login({ accountId: "sub-eve", accountEmail: "eve@example.com" }),
    );
    const [adas] = await manager.listOAuthAccounts(ada);
    calls.length = 0;
    expect(await manager.removeOAuthAccount(eve, adas?.id as string)).toBe(false);
    expect(await manager.removeOAuthAccount(ada, "no-such-link")).toBe(false);
    expect(await manager.removeOAuthAccount(ada, "sub-1")).toBe(false);
    expect(await manager.listOAuthAccounts(ada)).toEqual([adas]);
    expect(calls).toEqual([]);
  });
});

describe("UserManager OAuth methods on a user database without OAuth accounts", () => {
  it("throw OAuthNotSupportedError naming the interface to implement", async () => {
    const memory = new MemoryUserDatabase();
    const userDb: UserDatabase<MemoryUser, string> = {
      get: (id) => memory.get(id),
      getByEmail: (email) => memory.getByEmail(email),
      create: (data) => memory.create(data),
      update: (user, data, conditions) => memory.update(user, data, conditions),
      delete: (user) => memory.delete(user),
    };
    const { manager } = makeRecordingManager({ userDb });
    expect(manager).toBeInstanceOf(UserManager);
    const user = await register(manager, "ada@example.com");
    const calls = [
      manager.oauthCallback(login({ accountEmail: "new@example.com" })),
      manager.oauthAssociateCallback(user, login()),
      manager.listOAuthAccounts(user),
      manager.removeOAuthAccount(user, "x"),
    ];
    for (const call of calls) {
      await expect(call).rejects.toBeInstanceOf(OAuthNotSupportedError);
      await expect(call).rejects.toThrow(/OAuthAccountDatabase/);
    }
    // Nothing was created on the way.
    expect(memory.users.size).toBe(1);
  });
});
