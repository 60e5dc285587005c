import { strict as assert } from "node:assert";
import { OAuthAccountAlreadyLinkedError } from "../errors.js";
import type { UserDatabase, UserProtocol } from "../models.js";
import {
  isOAuthAccountDatabase,
  type OAuthAccount,
  type OAuthAccountCreate,
  type OAuthAccountDatabase,
} from "../oauth/models.js";
import type { AdapterFixture, ConformanceCase } from "./adapter-conformance.js";
import { assertFields, userData } from "./user-database-cases.js";

/** A link to create: `oauthName`/`accountId` plus tokens; `extra` overrides any field. */
export const oauthAccountData = (
  oauthName: string,
  accountId: string,
  extra: Partial<OAuthAccountCreate> = {},
): OAuthAccountCreate => ({
  oauthName,
  accountId,
  accountEmail: `${accountId}@${oauthName}.example`,
  accessToken: `access-${oauthName}-${accountId}`,
  expiresAt: 1_900_000_000,
  refreshToken: `refresh-${oauthName}-${accountId}`,
  ...extra,
});

type OAuthUsers<ID> = UserDatabase<UserProtocol<ID>, ID> &
  OAuthAccountDatabase<UserProtocol<ID>, ID>;

// An opaque 4 KiB token: every character an encrypted token's encodings use (base64,
// base64url, JWE's dots, a version prefix), so no adapter can truncate or re-encode it.
const LONG_TOKEN = `v1:${"AZaz09+/=-_.~:".repeat(293)}`.slice(0, 4096);

/**
 * The rules every user database that keeps OAuth accounts ({@link OAuthAccountDatabase})
 * follows. With `fixture.oauth === false` the adapter says it keeps none: one case then
 * checks that its user database indeed does not implement the interface. Otherwise every
 * case fails (never skips) on a user database that does not implement it.
 */
export function oauthAccountCases<ID>(fixture: AdapterFixture<ID>): ConformanceCase[] {
  if (fixture.oauth === false) {
    return [
      {
        name: "oauth: false — the user database does not implement OAuthAccountDatabase",
        async run() {
          assert.equal(
            isOAuthAccountDatabase(fixture.users()),
            false,
            `${fixture.name}: the user database implements OAuthAccountDatabase; drop oauth: false so the OAuth cases run`,
          );
        },
      },
    ];
  }
  const oauthUsers = (): OAuthUsers<ID> => {
    const db = fixture.users();
    assert.ok(
      isOAuthAccountDatabase(db),
      `${fixture.name}: the user database does not implement OAuthAccountDatabase ` +
        "(getByOAuthAccount, listOAuthAccounts, addOAuthAccount, updateOAuthAccount, " +
        "removeOAuthAccount); implement it, or pass oauth: false in the fixture",
    );
    return db;
  };
  const stored = async (db: OAuthUsers<ID>, user: UserProtocol<ID>, id: string) =>
    (await db.listOAuthAccounts(user)).find((a) => a.id === id);

  return [
    {
      name: "addOAuthAccount returns the link with a string id and every field; getByOAuthAccount and listOAuthAccounts find it",
      async run() {
        const db = oauthUsers();
        const user = await db.create(userData("link@example.com"));
        const data = oauthAccountData("google", "sub-1");
        const account = await db.addOAuthAccount(user, data);
        assert.equal(typeof account.id, "string");
        assert.ok(account.id.length > 0);
        assertFields(account, { ...data });
        const found = await db.getByOAuthAccount("google", "sub-1");
        assertFields(found, { id: user.id, email: "link@example.com", isActive: true });
        assert.deepStrictEqual(await db.listOAuthAccounts(user), [account]);
      },
    },
    {
      name: "getByOAuthAccount of an unknown account is null",
      async run() {
        const db = oauthUsers();
        assert.equal(await db.getByOAuthAccount("google", "nobody"), null);
        const user = await db.create(userData("known@example.com"));
        await db.addOAuthAccount(user, oauthAccountData("google", "sub-known"));
        assert.equal(await db.getByOAuthAccount("google", "sub-unknown"), null);
        assert.equal(await db.getByOAuthAccount("github", "nobody"), null);
        assert.equal(await db.getByOAuthAccount('{"$ne":null}', '{"$ne":null}'), null);
        assert.equal(await db.getByOAuthAccount("google", "sub-known' OR '1'='1"), null);
      },
    },
    {
      name: "ASVS 5.0 6.8.1: an account is (oauthName, accountId): the same id at another provider is another identity",
      async run() {
        const db = oauthUsers();
        const ada = await db.create(userData("ada@example.com"));
        const eve = await db.create(userData("eve@example.com"));
        await db.addOAuthAccount(ada, oauthAccountData("google", "12345"));
        assert.equal(await db.getByOAuthAccount("github", "12345"), null);
        await db.addOAuthAccount(eve, oauthAccountData("github", "12345"));
        assert.deepStrictEqual((await db.getByOAuthAccount("google", "12345"))?.id, ada.id);
        assert.deepStrictEqual((await db.getByOAuthAccount("github", "12345"))?.id, eve.id);
        // Names and ids are compared exactly, not case-insensitively.
        assert.equal(await db.getByOAuthAccount("Google", "12345"), null);
      },
    },
    {
      name: "listOAuthAccounts lists the user's links oldest first, nobody else's; none -> []",
      async run() {
        const db = oauthUsers();
        const ada = await db.create(userData("list-ada@example.com"));
        const bob = await db.create(userData("list-bob@example.com"));
        assert.deepStrictEqual(await db.listOAuthAccounts(ada), []);
        const first = await db.addOAuthAccount(ada, oauthAccountData("google", "a-1"));
        await db.addOAuthAccount(bob, oauthAccountData("google", "b-1"));
        const second = await db.addOAuthAccount(ada, oauthAccountData("github", "a-2"));
        const third = await db.addOAuthAccount(ada, oauthAccountData("google", "a-3"));
        assert.deepStrictEqual(
          (await db.listOAuthAccounts(ada)).map((a) => a.id),
          [first.id, second.id, third.id],
        );
        assert.deepStrictEqual(
          (await db.listOAuthAccounts(bob)).map((a) => a.accountId),
          ["b-1"],
        );
      },
    },
    {
      name: "updateOAuthAccount writes the given fields, keeps the others, and returns the link as stored",
      async run() {
        const db = oauthUsers();
        const user = await db.create(userData("upd-link@example.com"));
        const other = await db.addOAuthAccount(user, oauthAccountData("github", "gh-1"));
        const account = await db.addOAuthAccount(user, oauthAccountData("google", "sub-upd"));
        const updated = await db.updateOAuthAccount(user, account, {
          accessToken: "access-2",
          expiresAt: 1_950_000_000,
          refreshToken: "refresh-2",
          accountEmail: "new@example.com",
        });
        const expected: OAuthAccount = {
          ...account,
          accessToken: "access-2",
          expiresAt: 1_950_000_000,
          refreshToken: "refresh-2",
          accountEmail: "new@example.com",
        };
        assertFields(updated, { ...expected });
        assertFields(await stored(db, user, account.id), { ...expected });
        // A partial update keeps what it does not name.
        const partial = await db.updateOAuthAccount(user, updated, { accessToken: "access-3" });
        assertFields(partial, { ...expected, accessToken: "access-3" });
        assertFields(await stored(db, user, account.id), { ...expected, accessToken: "access-3" });
        // The user's other link is untouched.
        assert.deepStrictEqual(await stored(db, user, other.id), other);
      },
    },
    {
      name: "removeOAuthAccount unlinks (true); again, or another user's link -> false and nothing changes",
      async run() {
        const db = oauthUsers();
        const ada = await db.create(userData("rm-ada@example.com"));
        const bob = await db.create(userData("rm-bob@example.com"));
        const adas = await db.addOAuthAccount(ada, oauthAccountData("google", "rm-a"));
        const kept = await db.addOAuthAccount(ada, oauthAccountData("github", "rm-a2"));
        const bobs = await db.addOAuthAccount(bob, oauthAccountData("google", "rm-b"));
        assert.equal(await db.removeOAuthAccount(ada, bobs), false);
        assert.deepStrictEqual((await db.getByOAuthAccount("google", "rm-b"))?.id, bob.id);
        assert.equal(await db.removeOAuthAccount(ada, adas), true);
        assert.equal(await db.getByOAuthAccount("google", "rm-a"), null);
        assert.deepStrictEqual(await db.listOAuthAccounts(ada), [kept]);
        assert.equal(await db.removeOAuthAccount(ada, adas), false);
        // Unlinked, the account may be linked again (to anyone).
        await db.addOAuthAccount(bob, oauthAccountData("google", "rm-a"));
        assert.deepStrictEqual((await db.getByOAuthAccount("google", "rm-a"))?.id, bob.id);
      },
    },
    {
      name: "a linked account cannot be linked again, to another user or the same -> OAuthAccountAlreadyLinkedError",
      async run() {
        const db = oauthUsers();
        const ada = await db.create(userData("dup-ada@example.com"));
        const eve = await db.create(userData("dup-eve@example.com"));
        const account = await db.addOAuthAccount(ada, oauthAccountData("google", "dup"));
        await assert.rejects(
          db.addOAuthAccount(eve, oauthAccountData("google", "dup", { accessToken: "eve's" })),
          OAuthAccountAlreadyLinkedError,
        );
        await assert.rejects(
          db.addOAuthAccount(ada, oauthAccountData("google", "dup")),
          OAuthAccountAlreadyLinkedError,
        );
        assert.deepStrictEqual((await db.getByOAuthAccount("google", "dup"))?.id, ada.id);
        assert.deepStrictEqual(await db.listOAuthAccounts(ada), [account]);
        assert.deepStrictEqual(await db.listOAuthAccounts(eve), []);
      },
    },
    {
      name: "parallel adds of one account to two users: exactly one wins, the other gets OAuthAccountAlreadyLinkedError",
      async run() {
        const db = oauthUsers();
        const ada = await db.create(userData("race-ada@example.com"));
        const eve = await db.create(userData("race-eve@example.com"));
        const results = await Promise.allSettled([
          db.addOAuthAccount(ada, oauthAccountData("google", "race", { accessToken: "ada's" })),
          db.addOAuthAccount(eve, oauthAccountData("google", "race", { accessToken: "eve's" })),
        ]);
        const won = results.filter((r) => r.status === "fulfilled");
        const lost = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
        assert.equal(won.length, 1, `${won.length} winners`);
        assert.ok(lost[0]?.reason instanceof OAuthAccountAlreadyLinkedError, lost[0]?.reason);
        const winner = results[0].status === "fulfilled" ? ada : eve;
        const loser = winner === ada ? eve : ada;
        assert.deepStrictEqual((await db.getByOAuthAccount("google", "race"))?.id, winner.id);
        assert.equal((await db.listOAuthAccounts(winner)).length, 1);
        assert.deepStrictEqual(await db.listOAuthAccounts(loser), []);
      },
    },
    {
      name: "accountEmail is stored normalized, on add and on update",
      async run() {
        const db = oauthUsers();
        const user = await db.create(userData("norm@example.com"));
        const account = await db.addOAuthAccount(
          user,
          oauthAccountData("google", "norm", { accountEmail: "Grace.Hopper@Example.COM" }),
        );
        assert.equal(account.accountEmail, "grace.hopper@example.com");
        assert.equal(
          (await stored(db, user, account.id))?.accountEmail,
          "grace.hopper@example.com",
        );
        const updated = await db.updateOAuthAccount(user, account, {
          accountEmail: "ADA@Example.org",
        });
        assert.equal(updated.accountEmail, "ada@example.org");
        assert.equal((await stored(db, user, account.id))?.accountEmail, "ada@example.org");
      },
    },
    {
      name: "tokens are stored exactly as given: opaque strings up to 4 KiB, a null refresh token",
      async run() {
        const db = oauthUsers();
        const user = await db.create(userData("tokens@example.com"));
        const odd = "tok\u00e9n with spaces, \"quotes\", 'single', \\ and \u{1f511}";
        const account = await db.addOAuthAccount(
          user,
          oauthAccountData("google", "tokens", { accessToken: LONG_TOKEN, refreshToken: null }),
        );
        assert.equal(LONG_TOKEN.length, 4096);
        assertFields(await stored(db, user, account.id), {
          accessToken: LONG_TOKEN,
          refreshToken: null,
        });
        await db.updateOAuthAccount(user, account, { accessToken: odd, refreshToken: LONG_TOKEN });
        assertFields(await stored(db, user, account.id), {
          accessToken: odd,
          refreshToken: LONG_TOKEN,
        });
        await db.updateOAuthAccount(user, account, { refreshToken: null });
        assertFields(await stored(db, user, account.id), { accessToken: odd, refreshToken: null });
      },
    },
    {
      name: "expiresAt is stored as given: null, and integer epoch seconds past 2038",
      async run() {
        const db = oauthUsers();
        const user = await db.create(userData("expires@example.com"));
        const none = await db.addOAuthAccount(
          user,
          oauthAccountData("google", "exp-null", { expiresAt: null }),
        );
        assert.equal(none.expiresAt, null);
        assert.equal((await stored(db, user, none.id))?.expiresAt, null);
        // 2100-01-01: past 2^31, so a 32-bit column cannot hold it.
        const later = await db.addOAuthAccount(
          user,
          oauthAccountData("google", "exp-2100", { expiresAt: 4_102_444_800 }),
        );
        assert.equal((await stored(db, user, later.id))?.expiresAt, 4_102_444_800);
        for (const expiresAt of [1_700_000_000, null, 4_102_444_800]) {
          const updated = await db.updateOAuthAccount(user, none, { expiresAt });
          assert.equal(updated.expiresAt, expiresAt);
          assert.equal((await stored(db, user, none.id))?.expiresAt, expiresAt);
        }
      },
    },
    {
      name: "deleting a user removes their links (and frees the account for another user)",
      async run() {
        const db = oauthUsers();
        const gone = await db.create(userData("gone@example.com"));
        const stays = await db.create(userData("stays@example.com"));
        await db.addOAuthAccount(gone, oauthAccountData("google", "gone-1"));
        await db.addOAuthAccount(gone, oauthAccountData("github", "gone-2"));
        const kept = await db.addOAuthAccount(stays, oauthAccountData("google", "stays"));
        await db.delete(gone);
        assert.equal(await db.getByOAuthAccount("google", "gone-1"), null);
        assert.equal(await db.getByOAuthAccount("github", "gone-2"), null);
        assert.deepStrictEqual(await db.listOAuthAccounts(gone), []);
        assert.deepStrictEqual(await db.listOAuthAccounts(stays), [kept]);
        await db.addOAuthAccount(stays, oauthAccountData("google", "gone-1"));
        assert.deepStrictEqual((await db.getByOAuthAccount("google", "gone-1"))?.id, stays.id);
      },
    },
  ];
}
