// MikroOrmUserDatabase's OAuth accounts beyond the conformance suite, on one driver: the
// unique index under parallel adds, the cascade on user delete, ids as strings, the 64-bit
// expiry, app entities. Run by src/oauth.test.ts (SQLite) and test/db-mikroorm (PostgreSQL,
// MongoDB).
import type { EntityName } from "@mikro-orm/core";
import {
  isOAuthAccountDatabase,
  OAuthAccountAlreadyLinkedError,
  type OAuthAccountCreate,
  UserNotExistsError,
  type UserProtocol,
} from "@tessera/core";
import { userCreateData } from "@tessera/core/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AccessToken, MongoAccessToken } from "../entities/access-token.js";
import { MongoOAuthAccount, OAuthAccount } from "../entities/oauth-account.js";
import { MongoUser, User } from "../entities/user.js";
import type { EntityTarget } from "../types.js";
import { MikroOrmUserDatabase } from "../user-database.js";
import {
  AppOAuthAccount,
  AppUser,
  IntOAuthAccount,
  IntUser,
  LazyOAuthAccount,
  LazyUser,
  MongoAppOAuthAccount,
  MongoAppUser,
} from "./app-entities.js";
import { type DriverKind, openTestOrm, type TestOrm } from "./orm.js";

type U = UserProtocol<unknown>;

export const link = (
  accountId: string,
  overrides: Partial<OAuthAccountCreate> = {},
): OAuthAccountCreate => ({
  oauthName: "oidc",
  accountId,
  accountEmail: `${accountId}@provider.example`,
  accessToken: `enc:access:${accountId}`,
  expiresAt: 1_900_000_000,
  refreshToken: `enc:refresh:${accountId}`,
  ...overrides,
});

/** Registers the tests for `kind` (PostgreSQL and MongoDB servers come from the harness). */
export function describeMikroOrmOAuthAccounts(kind: DriverKind): void {
  const mongo = kind === "mongodb";
  const pairs: { name: string; u: EntityTarget; o: EntityTarget }[] = mongo
    ? [
        { name: "MongoUser", u: MongoUser, o: MongoOAuthAccount },
        { name: "an app user with first_name", u: MongoAppUser, o: MongoAppOAuthAccount },
      ]
    : [
        { name: "User", u: User, o: OAuthAccount },
        { name: "an app user with first_name", u: AppUser, o: AppOAuthAccount },
        { name: "integer user ids", u: IntUser, o: IntOAuthAccount },
        { name: "a lazy user column", u: LazyUser, o: LazyOAuthAccount },
      ];
  const { u: user, o: oauth } = pairs[0] as { u: EntityTarget; o: EntityTarget };
  const token = mongo ? MongoAccessToken : AccessToken;

  describe(`MikroOrmUserDatabase: OAuth accounts on ${kind}`, () => {
    let db: TestOrm;
    beforeAll(async () => {
      db = await openTestOrm(kind, [token, ...pairs.flatMap(({ u, o }) => [u, o])]);
    }, 60_000);
    afterAll(() => db?.close());
    beforeEach(async () => {
      const em = db.em();
      for (const { u, o } of pairs) {
        await em.nativeDelete(o as EntityName<object>, {});
        await em.nativeDelete(u as EntityName<object>, {});
      }
    });

    const users = (u: EntityTarget = user, o: EntityTarget = oauth) =>
      new MikroOrmUserDatabase<object, U>(db.em(), u as EntityTarget<object>, {
        oauthAccount: o,
      });
    const count = (o: EntityTarget = oauth) => db.em().count(o as EntityName<object>, {});

    it("without the oauthAccount option it has none of the OAuth methods (not methods that throw)", () => {
      const plain = new MikroOrmUserDatabase(db.em(), user as EntityTarget<object>);
      for (const verb of [
        "getByOAuthAccount",
        "listOAuthAccounts",
        "addOAuthAccount",
        "updateOAuthAccount",
        "removeOAuthAccount",
      ]) {
        expect(verb in plain).toBe(false);
        expect(verb in users()).toBe(true);
      }
      expect(isOAuthAccountDatabase(plain)).toBe(false);
      expect(isOAuthAccountDatabase(users())).toBe(true);
    });

    it("add, getByOAuthAccount and listOAuthAccounts round-trip every field; ids are strings", async () => {
      const db1 = users();
      const owner = await db1.create(userCreateData("owner@example.com"));
      const big = "x".repeat(4096); // ciphertext of a large provider token
      const added = await db1.addOAuthAccount(owner, link("sub-1", { accessToken: big }));
      expect(typeof added.id).toBe("string");
      expect(added.id.length).toBeGreaterThan(0);
      expect(added).toEqual({ id: added.id, ...link("sub-1", { accessToken: big }) });
      const listed = await users().listOAuthAccounts(owner);
      expect(listed).toEqual([added]);
      expect(typeof listed[0]?.id).toBe("string");
      const found = await users().getByOAuthAccount("oidc", "sub-1");
      expect(found?.id).toEqual(owner.id);
      expect(found?.email).toBe("owner@example.com");
      expect(await users().getByOAuthAccount("github", "sub-1")).toBeNull();
      expect(await users().getByOAuthAccount("oidc", "sub-2")).toBeNull();
    });

    it("an expiry past 2038 and null expiry / refresh token round-trip (a 64-bit column)", async () => {
      const owner = await users().create(userCreateData("far@example.com"));
      const far = 4_102_444_800; // 2100-01-01
      await users().addOAuthAccount(owner, link("far", { expiresAt: far }));
      await users().addOAuthAccount(owner, link("none", { expiresAt: null, refreshToken: null }));
      const [a, b] = await users().listOAuthAccounts(owner);
      expect(a?.expiresAt).toBe(far);
      expect(b).toMatchObject({ accountId: "none", expiresAt: null, refreshToken: null });
    });

    it("lists a user's links oldest first, and only theirs", async () => {
      const one = await users().create(userCreateData("one@example.com"));
      const two = await users().create(userCreateData("two@example.com"));
      for (const id of ["c", "a", "b"]) await users().addOAuthAccount(one, link(id));
      await users().addOAuthAccount(two, link("z"));
      expect((await users().listOAuthAccounts(one)).map((l) => l.accountId)).toEqual([
        "c",
        "a",
        "b",
      ]);
      expect((await users().listOAuthAccounts(two)).map((l) => l.accountId)).toEqual(["z"]);
    });

    it("a provider account links once: OAuthAccountAlreadyLinkedError for the same or another user; another provider's same id is another account", async () => {
      const one = await users().create(userCreateData("dup1@example.com"));
      const two = await users().create(userCreateData("dup2@example.com"));
      await users().addOAuthAccount(one, link("dup"));
      await expect(users().addOAuthAccount(one, link("dup"))).rejects.toBeInstanceOf(
        OAuthAccountAlreadyLinkedError,
      );
      await expect(users().addOAuthAccount(two, link("dup"))).rejects.toBeInstanceOf(
        OAuthAccountAlreadyLinkedError,
      );
      await users().addOAuthAccount(two, link("dup", { oauthName: "github" }));
      expect((await users().getByOAuthAccount("oidc", "dup"))?.id).toEqual(one.id);
      expect((await users().getByOAuthAccount("github", "dup"))?.id).toEqual(two.id);
      expect(await count()).toBe(2);
    });

    it("the unique index decides parallel adds of one provider account: one winner, the rest OAuthAccountAlreadyLinkedError", async () => {
      const owners = [];
      for (let i = 0; i < 10; i++) {
        owners.push(await users().create(userCreateData(`race${i}@example.com`)));
      }
      // One adapter (one EntityManager) per caller, as concurrent requests would have.
      const results = await Promise.allSettled(
        owners.map((o) => users().addOAuthAccount(o, link("raced"))),
      );
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.filter((r) => r.status === "rejected");
      expect(won).toHaveLength(1);
      for (const r of lost) expect(r.reason).toBeInstanceOf(OAuthAccountAlreadyLinkedError);
      expect(await count()).toBe(1);
      const winner = owners[results.findIndex((r) => r.status === "fulfilled")];
      expect((await users().getByOAuthAccount("oidc", "raced"))?.id).toEqual(winner?.id);
    });

    it("updateOAuthAccount writes the tokens, expiry and email of the user's own link only", async () => {
      const one = await users().create(userCreateData("up1@example.com"));
      const two = await users().create(userCreateData("up2@example.com"));
      const mine = await users().addOAuthAccount(one, link("up"));
      const updated = await users().updateOAuthAccount(one, mine, {
        accessToken: "enc:new",
        expiresAt: null,
        refreshToken: null,
        accountEmail: "new@provider.example",
      });
      expect(updated).toEqual({
        ...mine,
        accessToken: "enc:new",
        expiresAt: null,
        refreshToken: null,
        accountEmail: "new@provider.example",
      });
      expect(await users().listOAuthAccounts(one)).toEqual([updated]);
      // Someone else's user cannot write it.
      await users().updateOAuthAccount(two, mine, { accessToken: "enc:stolen" });
      expect((await users().listOAuthAccounts(one))[0]?.accessToken).toBe("enc:new");
      // A partial update leaves the other fields alone.
      await users().updateOAuthAccount(one, updated, { expiresAt: 1_950_000_000 });
      expect((await users().listOAuthAccounts(one))[0]).toEqual({
        ...updated,
        expiresAt: 1_950_000_000,
      });
    });

    it("removeOAuthAccount unlinks the user's own link only; false otherwise", async () => {
      const one = await users().create(userCreateData("rm1@example.com"));
      const two = await users().create(userCreateData("rm2@example.com"));
      const mine = await users().addOAuthAccount(one, link("rm"));
      expect(await users().removeOAuthAccount(two, mine)).toBe(false);
      expect(await users().getByOAuthAccount("oidc", "rm")).not.toBeNull();
      expect(await users().removeOAuthAccount(one, mine)).toBe(true);
      expect(await users().removeOAuthAccount(one, mine)).toBe(false);
      expect(await users().getByOAuthAccount("oidc", "rm")).toBeNull();
      expect(await users().listOAuthAccounts(one)).toEqual([]);
      // Unlinked, the provider account may be linked again (to anyone).
      await users().addOAuthAccount(two, link("rm"));
      expect((await users().getByOAuthAccount("oidc", "rm"))?.id).toEqual(two.id);
    });

    it("deleting a user deletes their links (ON DELETE CASCADE; on MongoDB the adapter follows the relation's rule)", async () => {
      const one = await users().create(userCreateData("gone@example.com"));
      const two = await users().create(userCreateData("stays@example.com"));
      await users().addOAuthAccount(one, link("gone-1"));
      await users().addOAuthAccount(one, link("gone-2"));
      await users().addOAuthAccount(two, link("stays"));
      await users().delete(one);
      expect(await count()).toBe(1);
      expect(await users().getByOAuthAccount("oidc", "gone-1")).toBeNull();
      expect((await users().getByOAuthAccount("oidc", "stays"))?.id).toEqual(two.id);
      // The provider account is free again.
      await users().addOAuthAccount(two, link("gone-1"));
    });

    it("a link to a user that is not stored is refused with UserNotExistsError (a foreign key on SQL; a read on MongoDB)", async () => {
      const owner = await users().create(userCreateData("ghost@example.com"));
      await users().delete(owner);
      await expect(users().addOAuthAccount(owner, link("ghost"))).rejects.toBeInstanceOf(
        UserNotExistsError,
      );
      await expect(
        users().addOAuthAccount({ ...owner, id: "not-an-id" }, link("ghost")),
      ).rejects.toBeInstanceOf(UserNotExistsError);
      expect(await count()).toBe(0);
    });

    it("garbage keys and ids answer null / [] / false without a driver error", async () => {
      const owner = await users().create(userCreateData("junk@example.com"));
      const mine = await users().addOAuthAccount(owner, link("junk"));
      for (const bad of ["", "x".repeat(10_000), "a\u0000b", { $ne: null }, ["junk"], null, 42]) {
        expect(await users().getByOAuthAccount(bad as string, "junk")).toBeNull();
        expect(await users().getByOAuthAccount("oidc", bad as string)).toBeNull();
        expect(await users().removeOAuthAccount(owner, { ...mine, id: bad as string })).toBe(false);
        expect(await users().listOAuthAccounts({ ...owner, id: bad })).toEqual([]);
      }
      expect(await users().getByOAuthAccount("oidc", "junk")).not.toBeNull();
    });

    it.each(pairs.slice(1))("an app's own entities work the same ($name)", async ({ u, o }) => {
      const db1 = users(u, o);
      const owner = await db1.create(userCreateData("app@example.com"));
      const added = await db1.addOAuthAccount(owner, link("app"));
      expect(typeof added.id).toBe("string");
      expect((await users(u, o).getByOAuthAccount("oidc", "app"))?.id).toEqual(owner.id);
      expect(await users(u, o).listOAuthAccounts(owner)).toEqual([added]);
      await expect(users(u, o).addOAuthAccount(owner, link("app"))).rejects.toBeInstanceOf(
        OAuthAccountAlreadyLinkedError,
      );
      await users(u, o).delete(owner);
      expect(await count(o)).toBe(0);
    });

    it("an OAuth account entity whose user relation points at another user entity is refused on first use", async () => {
      const other = pairs[1]?.o as EntityTarget;
      await expect(users(user, other).getByOAuthAccount("oidc", "x")).rejects.toThrow(
        /must be a relation to/,
      );
    });
  });
}
