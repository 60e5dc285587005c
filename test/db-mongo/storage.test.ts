import { randomUUID } from "node:crypto";
import {
  ConfigurationError,
  generateOpaqueToken,
  hashToken,
  UserAlreadyExistsError,
  UserNotExistsError,
} from "@tessera/core";
import { userCreateData, userWithToken } from "@tessera/core/testing";
import { type MongoIdType, MongoUserDatabase, type MongoUserDocument } from "@tessera/db-mongo";
import { type CommandStartedEvent, ObjectId } from "mongodb";
import { describe, expect, it } from "vitest";
import { monitoredMongo } from "./monitored.js";

// What the shared suite does not look at: the stored shape (field names and BSON types),
// the indexes, round trips, and how the server's gaps (FerretDB v1) are handled.
const { db, serverKind, adapters, sentDuring } = monitoredMongo("mongo_storage");

/** Names of the commands the client sends while `fn` runs. */
async function commandsDuring(fn: () => Promise<unknown>): Promise<string[]> {
  return (await sentDuring(fn)).map((event) => event.commandName);
}

/** The filter of a find, update, delete or aggregate ($match of its first stage). */
function filterOf({ command }: CommandStartedEvent): unknown {
  return (
    command.filter ??
    command.updates?.[0]?.q ??
    command.deletes?.[0]?.q ??
    command.pipeline?.[0]?.$match
  );
}

describe.each<[MongoIdType, (id: unknown) => boolean]>([
  ["objectId", (id) => id instanceof ObjectId],
  ["uuid", (id) => typeof id === "string" && /^[0-9a-f-]{36}$/.test(id)],
])("db-mongo storage (%s ids)", (idType, isStoredId) => {
  it("users are stored with snake_case fields, the normalized email and the app's extras", async () => {
    const { userCollection, users } = await adapters(idType);
    const user = await users.create(userCreateData(" Ada@Example.COM", { displayName: "Ada" }));
    const doc = await userCollection.findOne({});
    expect(Object.keys(doc ?? {}).sort()).toEqual(
      [
        "_id",
        "displayName",
        "email",
        "hashed_password",
        "is_active",
        "is_superuser",
        "is_verified",
      ].sort(),
    );
    expect(isStoredId(doc?._id)).toBe(true);
    expect(String(doc?._id)).toBe(user.id);
    expect(doc).toMatchObject({
      email: "ada@example.com",
      hashed_password: "hash",
      is_active: true,
    });
  });

  it("tokens are stored as _id (the digest) / user_id (same BSON type as the user's _id) / created_at (a Date) / lifetime_seconds", async () => {
    const { tokenCollection, users, tokens } = await adapters(idType);
    const { digest } = await userWithToken(users, tokens, "tok@example.com", 60);
    const doc = await tokenCollection.findOne({});
    expect(Object.keys(doc ?? {}).sort()).toEqual([
      "_id",
      "created_at",
      "data_bytes",
      "expires_at",
      "lifetime_seconds",
      "user_id",
    ]);
    expect(doc?._id).toBe(digest);
    expect(isStoredId(doc?.user_id)).toBe(true);
    expect(doc?.created_at).toBeInstanceOf(Date);
    // What mergeDataByHandle's one write checks: the idle expiry and the data's JSON bytes ("{}").
    expect(doc?.expires_at?.getTime()).toBe((doc?.created_at.getTime() ?? 0) + 60_000);
    expect(doc?.data_bytes).toBe(2);
  });

  // FerretDB v1 on SQLite pushes down only `_id` equality; any other filter field makes it
  // read and decode the whole collection (about 30 ms a lookup at 1,000 tokens).
  it("every read and write by digest filters on _id alone; getByTokenWithUser reads the user by _id", async () => {
    const { users, tokens } = await adapters(idType);
    const user = await users.create(userCreateData("filters@example.com"));
    const at = await tokens.create({
      token: hashToken(generateOpaqueToken()),
      userId: user.id,
      createdAt: new Date(),
      lifetimeSeconds: 60,
    });
    const digest = { _id: at.token };
    const sent = async (fn: () => Promise<unknown>) => (await sentDuring(fn)).map(filterOf);
    expect(await sent(() => tokens.getByToken(at.token))).toEqual([digest]);
    await tokens.getByTokenWithUser(at.token); // the first call may probe the server
    const withUser = await sent(() => tokens.getByTokenWithUser(at.token));
    expect([[digest], [digest, { _id: expect.anything() }]]).toContainEqual(withUser);
    expect(await sent(() => tokens.update(at, { lifetimeSeconds: 120 }))).toEqual([digest]);
    expect(await sent(() => tokens.delete(at))).toEqual([digest]);
    const [except] = await sent(() => tokens.deleteAllForUser(user.id, { exceptDigest: at.token }));
    expect(except).toMatchObject({ _id: { $ne: at.token } });
  });

  it("a document of the earlier shape (digest in a `token` field) is not read: no migration, nothing was released", async () => {
    const { tokenCollection, users, tokens } = await adapters(idType);
    await users.create(userCreateData("old-shape@example.com"));
    const digest = hashToken(generateOpaqueToken());
    await tokenCollection.insertOne({
      _id: new ObjectId(),
      token: digest,
      user_id: (await users.collection.findOne({}))?._id,
      created_at: new Date(),
      lifetime_seconds: 60,
    } as never);
    expect(await tokens.getByToken(digest)).toBeNull();
    expect(await tokens.getByTokenWithUser(digest)).toBeNull();
  });

  it("creating a token whose digest is stored already fails with the driver's E11000 and keeps the first", async () => {
    const { users, tokens } = await adapters(idType);
    await tokens.ensureIndexes();
    const ada = await users.create(userCreateData("dup-a@example.com"));
    const bob = await users.create(userCreateData("dup-b@example.com"));
    const digest = hashToken(generateOpaqueToken());
    const data = { token: digest, createdAt: new Date(), lifetimeSeconds: 60 };
    await tokens.create({ ...data, userId: ada.id });
    const error = await tokens.create({ ...data, userId: bob.id }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "MongoServerError", code: 11000 });
    expect((await tokens.getByToken(digest))?.userId).toBe(ada.id);
  });

  it("an extra named like a stored protocol field cannot change it", async () => {
    const { userCollection, users } = await adapters(idType);
    const user = await users.create(userCreateData("sneaky@example.com", { is_superuser: true }));
    await users.update(user, { is_verified: true, hashed_password: "x" });
    expect(await userCollection.findOne({})).toMatchObject({
      is_superuser: false,
      is_verified: false,
      hashed_password: "hash",
    });
  });

  it("updating a user deleted meanwhile is UserNotExistsError, and creates nothing", async () => {
    const { userCollection, users } = await adapters(idType);
    const user = await users.create(userCreateData("gone@example.com"));
    await users.delete(user);
    await expect(users.update(user, { isVerified: true })).rejects.toBeInstanceOf(
      UserNotExistsError,
    );
    expect(await userCollection.countDocuments()).toBe(0);
  });

  it("get, getByEmail and getByToken are one round trip each; a malformed id is none", async () => {
    const { users, tokens } = await adapters(idType);
    const user = await users.create(userCreateData("one@example.com"));
    expect(await commandsDuring(() => users.get(user.id))).toEqual(["find"]);
    expect(await commandsDuring(() => users.getByEmail("ONE@example.com"))).toEqual(["find"]);
    expect(await commandsDuring(() => tokens.getByToken(hashToken("x")))).toEqual(["find"]);
    expect(await commandsDuring(() => users.get("{$ne:null}"))).toEqual([]);
  });

  it("getByTokenWithUser: one aggregate with $lookup, or two finds where $lookup is not implemented", async () => {
    const { users, tokens } = await adapters(idType);
    const { digest } = await userWithToken(users, tokens, "join@example.com", 60);
    await tokens.getByTokenWithUser(digest); // the first call may probe the server
    const commands = await commandsDuring(() => tokens.getByTokenWithUser(digest));
    if (serverKind === "ferretdb") expect(commands).toEqual(["find", "find"]);
    else if (serverKind === "mongod") expect(commands).toEqual(["aggregate"]);
    else expect([["aggregate"], ["find", "find"]]).toContainEqual(commands);
  });

  it("listByUser lists the user's tokens, oldest first, and no one else's", async () => {
    const { users, tokens } = await adapters(idType);
    const ada = await users.create(userCreateData("ada@example.com"));
    const bob = await users.create(userCreateData("bob@example.com"));
    const now = Date.now();
    const make = (userId: string, ageMs: number) =>
      tokens.create({
        token: hashToken(generateOpaqueToken()),
        userId,
        createdAt: new Date(now - ageMs),
        lifetimeSeconds: 60,
      });
    const newer = await make(ada.id, 1_000);
    const older = await make(ada.id, 120_000); // expired: still listed
    await make(bob.id, 0);
    expect(await tokens.listByUser(ada.id)).toEqual([older, newer]);
    expect(await tokens.listByUser(new ObjectId().toHexString())).toEqual([]);
  });

  it("an app's own unique index is not mistaken for the email's on update", async () => {
    const { userCollection, users } = await adapters(idType);
    await userCollection.createIndex({ username: 1 }, { unique: true, name: "username_1" });
    await users.create(userCreateData("a@example.com", { username: "ada" }));
    const b = await users.create(userCreateData("b@example.com", { username: "bob" }));
    const error = await users.update(b, { username: "ada" }).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(UserAlreadyExistsError);
    expect(error).toBeInstanceOf(Error);
  });
});

describe("db-mongo ensureIndexes", () => {
  it("creates the unique email index, the user_id and handle indexes (the digest is _id: no token index), and is idempotent", async () => {
    const { userCollection, tokenCollection, users, tokens } = await adapters("objectId");
    await users.ensureIndexes();
    await tokens.ensureIndexes();
    await tokens.ensureIndexes();
    const userIndexes = await userCollection.listIndexes().toArray();
    const tokenIndexes = await tokenCollection.listIndexes().toArray();
    expect(userIndexes).toContainEqual(
      expect.objectContaining({ key: { email: 1 }, unique: true }),
    );
    const tokenKeys = tokenIndexes.map((index) => index.key);
    expect(tokenKeys).toHaveLength(3);
    expect(tokenKeys).toEqual(expect.arrayContaining([{ _id: 1 }, { user_id: 1 }, { handle: 1 }]));
  });

  it("a TTL index is made where the server has them; FerretDB v1 reports 'unsupported'", async () => {
    const { tokenCollection, tokens } = await adapters("objectId");
    expect(await tokens.ensureIndexes()).toEqual({ ttl: "disabled" });
    const { ttl } = await tokens.ensureIndexes({ maxLifetimeSeconds: 3600 });
    if (serverKind === "ferretdb") expect(ttl).toBe("unsupported");
    if (serverKind === "mongod") expect(ttl).toBe("active");
    const ttlIndex = (await tokenCollection.listIndexes().toArray()).find((i) => i.key?.created_at);
    if (ttl === "active") {
      expect(ttlIndex?.expireAfterSeconds).toBe(3600);
      // A new cap replaces the old TTL instead of failing on the conflicting options.
      expect(await tokens.ensureIndexes({ maxLifetimeSeconds: 7200 })).toEqual({ ttl: "active" });
      const retuned = (await tokenCollection.listIndexes().toArray()).find(
        (i) => i.key?.created_at,
      );
      expect(retuned?.expireAfterSeconds).toBe(7200);
    } else {
      expect(ttl).toBe("unsupported");
      expect(ttlIndex).toBeUndefined();
    }
  });

  it("rejects a maxLifetimeSeconds that is not a positive integer", async () => {
    const { tokens } = await adapters("objectId");
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      await expect(tokens.ensureIndexes({ maxLifetimeSeconds: bad })).rejects.toBeInstanceOf(
        ConfigurationError,
      );
    }
  });

  it("an existing non-unique email index is a ConfigurationError, not a silent success", async () => {
    const userCollection = db.collection<MongoUserDocument>(`users_plain_${randomUUID()}`);
    await userCollection.createIndex({ email: 1 }, { name: "email_unique" });
    const users = new MongoUserDatabase(userCollection);
    await expect(users.ensureIndexes()).rejects.toBeInstanceOf(ConfigurationError);
  });

  it("an app's own unique email index under another name is accepted", async () => {
    const userCollection = db.collection<MongoUserDocument>(`users_own_${randomUUID()}`);
    await userCollection.createIndex({ email: 1 }, { unique: true, name: "email_1" });
    await expect(new MongoUserDatabase(userCollection).ensureIndexes()).resolves.toBeUndefined();
  });
});
