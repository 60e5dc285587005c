import { InvalidIDError, UserNotExistsError } from "@tessera/core";
import { ObjectId } from "mongodb";
import { describe, expect, it } from "vitest";
import type { MongoIdType } from "./ids.js";
import { MongoAccessTokenDatabase } from "./mongo-access-token-database.js";
import { MongoUserDatabase } from "./mongo-user-database.js";
import { recordingCollection } from "./test-utils/recording-collection.js";
import type { MongoAccessTokenDocument } from "./token-document.js";
import type { MongoUser, MongoUserDocument } from "./user-document.js";

// Malformed or hostile input (NoSQL operators, arrays, huge strings) must answer without
// a query: nothing the client sent may become part of a MongoDB filter unless it is the
// string (or ObjectId) the filter expects.
const hostile: unknown[] = [
  { $ne: null },
  { $gt: "" },
  { $where: "sleep(1000)" },
  ["6b031cb884427eca881abd13"],
  new ObjectId(),
  42,
  null,
  undefined,
  "",
  "x".repeat(1_000_000),
];

function adapters(idType: MongoIdType) {
  const calls: string[] = [];
  const users = new MongoUserDatabase(recordingCollection<MongoUserDocument>(calls), {
    idType,
    accessTokenCollection: recordingCollection<MongoAccessTokenDocument>(calls, "tokens"),
  });
  const tokens = new MongoAccessTokenDatabase(
    recordingCollection<MongoAccessTokenDocument>(calls, "tokens"),
    { users },
  );
  return { calls, users, tokens };
}

const asUser = (id: unknown) => ({ id }) as unknown as MongoUser;
const asToken = (token: unknown) =>
  ({ token, userId: "x", createdAt: new Date(), lifetimeSeconds: 1 }) as never;

describe.each<MongoIdType>(["objectId", "uuid"])(
  "malformed input never reaches the driver (%s ids)",
  (idType) => {
    it("get, delete, deleteAllForUser and listByUser of a malformed id: null, [] or a no-op", async () => {
      const { calls, users, tokens } = adapters(idType);
      for (const id of hostile) {
        expect(await users.get(id as string)).toBeNull();
        await users.delete(asUser(id));
        await tokens.deleteAllForUser(id as string);
        expect(await tokens.listByUser(id as string)).toEqual([]);
      }
      expect(calls).toEqual([]);
    });

    it("getByEmail of a non-string is null", async () => {
      const { calls, users } = adapters(idType);
      for (const email of hostile.filter((v) => typeof v !== "string")) {
        expect(await users.getByEmail(email as string)).toBeNull();
      }
      expect(calls).toEqual([]);
    });

    it("token reads and writes with a non-string or oversized digest are null / no-ops", async () => {
      const { calls, tokens } = adapters(idType);
      for (const digest of hostile) {
        expect(await tokens.getByToken(digest as string)).toBeNull();
        expect(await tokens.getByTokenWithUser(digest as string)).toBeNull();
        await tokens.delete(asToken(digest));
        await tokens.update(asToken(digest), { lifetimeSeconds: 60 });
      }
      expect(calls).toEqual([]);
    });

    it("update of a user with a malformed id is UserNotExistsError", async () => {
      const { calls, users } = adapters(idType);
      await expect(
        users.update(asUser({ $ne: null }), { isSuperuser: true }),
      ).rejects.toBeInstanceOf(UserNotExistsError);
      expect(calls).toEqual([]);
    });

    it("creating a token for a malformed user id is InvalidIDError", async () => {
      const { calls, tokens } = adapters(idType);
      const create = tokens.create({
        token: "a".repeat(64),
        userId: { $ne: null } as unknown as string,
        createdAt: new Date(),
        lifetimeSeconds: 60,
      });
      await expect(create).rejects.toBeInstanceOf(InvalidIDError);
      expect(calls).toEqual([]);
    });
  },
);
