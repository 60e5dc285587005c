// db-mongo's OAuth accounts beyond the shared suite (objectid/uuid.conformance run its OAuth
// cases): the stored shape, the key documents that decide who holds a provider account on
// every server (FerretDB v1 does not enforce a unique multikey index), races on one account
// and on one user's array, the cascade, and links kept out of the user model.
import {
  isOAuthAccountDatabase,
  OAuthAccountAlreadyLinkedError,
  type OAuthAccountCreate,
} from "@tessera/core";
import { userCreateData } from "@tessera/core/testing";
import { type MongoIdType, MongoUserDatabase } from "@tessera/db-mongo";
import { describe, expect, it } from "vitest";
import { monitoredMongo } from "./monitored.js";

const { serverKind, adapters } = monitoredMongo("mongo_oauth");

const link = (accountId: string, extra: Partial<OAuthAccountCreate> = {}): OAuthAccountCreate => ({
  oauthName: "oidc",
  accountId,
  accountEmail: `${accountId}@provider.example`,
  accessToken: `enc:access:${accountId}`,
  expiresAt: 1_900_000_000,
  refreshToken: `enc:refresh:${accountId}`,
  ...extra,
});

describe.each<MongoIdType>(["objectId", "uuid"])(
  `db-mongo OAuth accounts (%s ids, ${serverKind})`,
  (idType) => {
    it("links are embedded in the user document with snake_case fields; ids are strings; the key document names the user", async () => {
      const { userCollection, oauthKeyCollection, users } = await adapters(idType);
      const user = await users.create(userCreateData("shape@example.com"));
      const added = await users.addOAuthAccount(
        user,
        link("sub-1", { accountEmail: "Sub@Provider.Example" }),
      );
      expect(typeof added.id).toBe("string");
      const doc = await userCollection.findOne({});
      expect(doc?.oauth_accounts).toEqual([
        {
          id: added.id,
          oauth_name: "oidc",
          account_id: "sub-1",
          account_email: "sub@provider.example",
          access_token: "enc:access:sub-1",
          expires_at: 1_900_000_000,
          refresh_token: "enc:refresh:sub-1",
        },
      ]);
      const keys = await oauthKeyCollection.find({}).toArray();
      expect(keys).toHaveLength(1);
      expect(keys[0]?._id).toBe(JSON.stringify(["oidc", "sub-1"]));
      expect(String(keys[0]?.user_id)).toBe(user.id);
      expect(keys[0]?.created_at).toBeInstanceOf(Date);
    });

    it("the user model never carries the links (nor their tokens); a profile update cannot write them", async () => {
      const { userCollection, users } = await adapters(idType);
      const user = await users.create(userCreateData("model@example.com"));
      await users.addOAuthAccount(user, link("model"));
      expect(await users.get(user.id)).not.toHaveProperty("oauth_accounts");
      expect(await users.getByEmail("model@example.com")).not.toHaveProperty("oauth_accounts");
      expect(await users.getByOAuthAccount("oidc", "model")).not.toHaveProperty("oauth_accounts");
      // Mass assignment: an extra field named like the links is dropped, on create and update.
      await users.update(user, { oauth_accounts: [] } as never);
      const other = await users.create(
        userCreateData("mass@example.com", {
          oauth_accounts: [{ oauth_name: "oidc", account_id: "x" }],
        }),
      );
      expect(
        (await userCollection.findOne({ email: "model@example.com" }))?.oauth_accounts,
      ).toHaveLength(1);
      expect(
        (await userCollection.findOne({ email: "mass@example.com" }))?.oauth_accounts,
      ).toBeUndefined();
      expect(await users.listOAuthAccounts(other)).toEqual([]);
    });

    it("ensureIndexes makes the unique multikey index (partial: users without links are not duplicates of each other) and the keys' user_id index", async () => {
      const { userCollection, oauthKeyCollection, users } = await adapters(idType);
      const indexes = await userCollection.listIndexes().toArray();
      const multikey = indexes.find((i) => i.name === "oauth_accounts_unique");
      expect(multikey?.key).toEqual({
        "oauth_accounts.oauth_name": 1,
        "oauth_accounts.account_id": 1,
      });
      expect(multikey?.unique).toBe(true);
      expect((await oauthKeyCollection.listIndexes().toArray()).map((i) => i.name)).toContain(
        "user_id",
      );
      // Many users without links, and with an emptied array, coexist.
      const a = await users.create(userCreateData("a@example.com"));
      const b = await users.create(userCreateData("b@example.com"));
      for (const u of [a, b]) {
        const l = await users.addOAuthAccount(u, link(`only-${u.email}`));
        expect(await users.removeOAuthAccount(u, l)).toBe(true);
      }
      await users.create(userCreateData("c@example.com"));
      await users.ensureIndexes(); // idempotent
    });

    it("ten users add one provider account at once: one holds it, nine get OAuthAccountAlreadyLinkedError", async () => {
      const { userCollection, oauthKeyCollection, users } = await adapters(idType);
      const owners = [];
      for (let i = 0; i < 10; i++)
        owners.push(await users.create(userCreateData(`race${i}@example.com`)));
      const results = await Promise.allSettled(
        owners.map((o) => users.addOAuthAccount(o, link("raced"))),
      );
      const won = results.filter((r) => r.status === "fulfilled");
      expect(won).toHaveLength(1);
      for (const r of results) {
        if (r.status === "rejected")
          expect(r.reason).toBeInstanceOf(OAuthAccountAlreadyLinkedError);
      }
      const holders = await userCollection.find({ "oauth_accounts.account_id": "raced" }).toArray();
      expect(holders).toHaveLength(1);
      expect(await oauthKeyCollection.countDocuments({})).toBe(1);
      const winner = owners[results.findIndex((r) => r.status === "fulfilled")];
      expect((await users.getByOAuthAccount("oidc", "raced"))?.id).toBe(winner?.id);
    });

    it("one user adding one provider account ten times at once stores it once (the same document cannot hold a pair twice)", async () => {
      const { userCollection, users } = await adapters(idType);
      const user = await users.create(userCreateData("twice@example.com"));
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, () => users.addOAuthAccount(user, link("twice"))),
      );
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      expect((await userCollection.findOne({}))?.oauth_accounts).toHaveLength(1);
    });

    // MongoDB applies each compare-and-set atomically, so all four land. FerretDB v1 runs a
    // filtered update as a read then a write, so there a concurrent write on the same array
    // can be lost; what holds there: nothing is duplicated or invented, and a lost add's key
    // never makes getByOAuthAccount name a user who does not hold the link.
    it(`concurrent adds, updates and removes of one user's different links ${serverKind === "ferretdb" ? "(FerretDB v1: some may be lost, nothing invented)" : "all land (compare-and-set, retried)"}`, async () => {
      const { users } = await adapters(idType);
      const user = await users.create(userCreateData("busy@example.com"));
      const kept = await users.addOAuthAccount(user, link("kept"));
      const gone = await users.addOAuthAccount(user, link("gone"));
      await Promise.all([
        users.addOAuthAccount(user, link("new-1")),
        users.removeOAuthAccount(user, gone),
        users.updateOAuthAccount(user, kept, { accessToken: "enc:fresh" }),
        users.addOAuthAccount(user, link("new-2")),
      ]);
      const stored = await users.listOAuthAccounts(user);
      const ids = stored.map((l) => l.accountId).sort();
      if (serverKind !== "ferretdb") {
        expect(ids).toEqual(["kept", "new-1", "new-2"]);
        expect(stored.find((l) => l.accountId === "kept")?.accessToken).toBe("enc:fresh");
        expect(await users.getByOAuthAccount("oidc", "gone")).toBeNull();
      } else {
        expect(new Set(ids).size).toBe(ids.length);
        for (const id of ids) expect(["kept", "gone", "new-1", "new-2"]).toContain(id);
      }
      for (const id of ["kept", "gone", "new-1", "new-2"]) {
        const holder = (await users.getByOAuthAccount("oidc", id))?.id ?? null;
        if (serverKind !== "ferretdb") expect(holder).toBe(ids.includes(id) ? user.id : null);
        else if (holder !== null) expect(ids).toContain(id); // never a user without the link
      }
    });

    it("deleting a user deletes their links with the document and their keys", async () => {
      const { oauthKeyCollection, users } = await adapters(idType);
      const gone = await users.create(userCreateData("gone@example.com"));
      const stays = await users.create(userCreateData("stays@example.com"));
      await users.addOAuthAccount(gone, link("gone-1"));
      await users.addOAuthAccount(gone, link("gone-2"));
      await users.addOAuthAccount(stays, link("stays"));
      await users.delete(gone);
      expect(await oauthKeyCollection.countDocuments({})).toBe(1);
      await users.addOAuthAccount(stays, link("gone-1"));
    });

    it("a key whose user does not hold the link (a crash between two writes) is taken over after the grace minute, never before", async () => {
      const { oauthKeyCollection, users } = await adapters(idType);
      const ghost = await users.create(userCreateData("ghost@example.com"));
      const user = await users.create(userCreateData("heir@example.com"));
      const stored = users.toStoredId(ghost.id);
      const key = JSON.stringify(["oidc", "stale"]);
      // In flight (fresh): the add that took it may still be writing the link.
      await oauthKeyCollection.insertOne({
        _id: key,
        user_id: stored as never,
        created_at: new Date(),
      });
      await expect(users.addOAuthAccount(user, link("stale"))).rejects.toBeInstanceOf(
        OAuthAccountAlreadyLinkedError,
      );
      expect(await users.getByOAuthAccount("oidc", "stale")).toBeNull();
      // Stale (older than the grace minute, link never stored): taken over.
      await oauthKeyCollection.updateOne(
        { _id: key },
        { $set: { created_at: new Date(Date.now() - 120_000) } },
      );
      await users.addOAuthAccount(user, link("stale"));
      expect((await users.getByOAuthAccount("oidc", "stale"))?.id).toBe(user.id);
      expect(String((await oauthKeyCollection.findOne({ _id: key }))?.user_id)).toBe(user.id);
    });

    it("without oauthAccountKeyCollection the user database has no OAuth methods (isOAuthAccountDatabase is false)", async () => {
      const { userCollection, users } = await adapters(idType);
      const plain = new MongoUserDatabase(userCollection, { idType });
      expect(isOAuthAccountDatabase(plain)).toBe(false);
      expect(plain.addOAuthAccount).toBeUndefined();
      expect(isOAuthAccountDatabase(users)).toBe(true);
    });
  },
);
