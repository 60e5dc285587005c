import { AssertionError } from "node:assert";
import { describe, expect, it } from "vitest";
import type { UserDatabase, UserProtocol } from "../models.js";
import type { OAuthAccount, OAuthAccountCreate } from "../oauth/models.js";
import type { AdapterFixture } from "./adapter-conformance.js";
import { type MemoryUser, MemoryUserDatabase } from "./memory.js";
import { oauthAccountCases } from "./oauth-account-cases.js";

// The OAuth cases themselves: an adapter that keeps no OAuth accounts fails unless it says
// `oauth: false`, and one that claims support but breaks a rule fails too.

/** A user database with only the UserDatabase verbs (no OAuth accounts). */
function plainUsers(memory: MemoryUserDatabase): UserDatabase<MemoryUser, string> {
  return {
    get: (id) => memory.get(id),
    getByEmail: (email) => memory.getByEmail(email),
    create: (data) => memory.create(data),
    update: (user, data, conditions) => memory.update(user, data, conditions),
    delete: (user) => memory.delete(user),
  };
}

/** Memory's OAuth accounts with no unique index: links the same account twice. */
class NoUniqueIndex extends MemoryUserDatabase {
  private readonly links: (OAuthAccount & { userId: string })[] = [];
  override async addOAuthAccount(user: MemoryUser, data: OAuthAccountCreate) {
    const link = { ...data, id: String(this.links.length), userId: user.id };
    this.links.push(link);
    return { ...data, id: link.id };
  }
  override async getByOAuthAccount(oauthName: string, accountId: string) {
    const link = this.links.find((l) => l.oauthName === oauthName && l.accountId === accountId);
    return link ? this.get(link.userId) : null;
  }
}

function fixture(
  users: UserDatabase<UserProtocol<string>, string>,
  oauth?: boolean,
): AdapterFixture<string> {
  return {
    name: "under test",
    setup: async () => {},
    reset: async () => {},
    teardown: async () => {},
    users: () => users,
    tokens: () => {
      throw new Error("not used");
    },
    unknownId: "x",
    malformedIds: [],
    storedTokenValues: async () => [],
    ...(oauth === undefined ? {} : { oauth }),
  };
}

describe("oauthAccountCases", () => {
  it("fail, never skip, on a user database without OAuth accounts that does not say oauth: false", async () => {
    const cases = oauthAccountCases(fixture(plainUsers(new MemoryUserDatabase())));
    expect(cases.length).toBeGreaterThan(10);
    for (const c of cases) {
      await expect(c.run()).rejects.toThrow(/oauth: false/);
    }
  });

  it("with oauth: false, are one case that passes when the database keeps no OAuth accounts", async () => {
    const cases = oauthAccountCases(fixture(plainUsers(new MemoryUserDatabase()), false));
    expect(cases).toHaveLength(1);
    await cases[0]?.run();
  });

  it("with oauth: false on a database that does keep OAuth accounts, fail", async () => {
    const [only] = oauthAccountCases(fixture(new MemoryUserDatabase(), false));
    await expect(only?.run()).rejects.toBeInstanceOf(AssertionError);
  });

  it("fail an adapter that claims support but has no unique (oauthName, accountId)", async () => {
    const cases = oauthAccountCases(fixture(new NoUniqueIndex()));
    const unique = cases.filter((c) => /already|exactly one/i.test(c.name));
    expect(unique).toHaveLength(2);
    for (const c of unique) await expect(c.run()).rejects.toBeInstanceOf(AssertionError);
  });
});
