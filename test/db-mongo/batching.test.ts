import { generateOpaqueToken, hashToken } from "@tessera/core";
import { sessionIdFromDigest } from "@tessera/core/internal";
import { userCreateData, userWithToken } from "@tessera/core/testing";
import { type MongoIdType, MongoUserDatabase } from "@tessera/db-mongo";
import { type CommandStartedEvent, ObjectId } from "mongodb";
import { describe, expect, it } from "vitest";
import { monitoredMongo } from "./monitored.js";

// db-mongo's batched `_id` lookups (packages/db-mongo/src/batched-find.ts) against the
// harness's server, watched through the driver's command monitoring: the lookups asked in
// one event-loop turn go out as one find per collection, and every caller still gets what
// its own lookup, sent alone, answers.
const { client, serverKind, adapters, sentDuring } = monitoredMongo("mongo_batching");

/** The finds and aggregates the client sends while `fn` runs. */
async function readsDuring(fn: () => Promise<unknown>): Promise<CommandStartedEvent[]> {
  return (await sentDuring(fn)).filter(
    (event) => event.commandName === "find" || event.commandName === "aggregate",
  );
}

/** A find's `_id` filter: the ids of an `$in` (as strings), or the one id of an equality. */
function idsOf({ command }: CommandStartedEvent): string[] {
  const id = command.filter?._id;
  return (id?.$in ?? [id]).map(String);
}

const sorted = (values: string[]) => [...values].sort();

describe.each<MongoIdType>(["objectId", "uuid"])(
  "db-mongo batched _id lookups (%s ids)",
  (idType) => {
    it("concurrent getByTokenWithUser (live, expired, unknown, duplicate, user gone): each caller's own answer, one find per collection", async () => {
      const { userCollection, tokenCollection, users, tokens } = await adapters(idType);
      const ada = await users.create(userCreateData("ada@example.com"));
      const bob = await users.create(userCreateData("bob@example.com"));
      const gone = await users.create(userCreateData("gone@example.com"));
      const make = async (userId: string, createdAt = new Date()) =>
        (
          await tokens.create({
            token: hashToken(generateOpaqueToken()),
            userId,
            createdAt,
            lifetimeSeconds: 60,
          })
        ).token;
      const adaLive = await make(ada.id);
      const adaExpired = await make(ada.id, new Date(Date.now() - 86_400_000)); // still read: expiry is the strategy's
      const bobLive = await make(bob.id);
      const orphan = await make(gone.id);
      await userCollection.deleteOne({
        _id: (await userCollection.findOne({ email: gone.email }))?._id,
      });
      const unknown = [hashToken("unknown-1"), hashToken("unknown-2")];
      const asked = [
        adaLive,
        unknown[0],
        adaLive,
        bobLive,
        adaExpired,
        orphan,
        unknown[1],
        bobLive,
      ] as string[];

      // What each lookup answers alone (the first call may also probe the server for $lookup).
      const alone = [];
      for (const digest of asked) alone.push(await tokens.getByTokenWithUser(digest));
      expect(alone.map((found) => found?.user.email ?? null)).toEqual([
        "ada@example.com",
        null,
        "ada@example.com",
        "bob@example.com",
        "ada@example.com",
        null,
        null,
        "bob@example.com",
      ]);

      let together: unknown[] = [];
      const sent = await readsDuring(async () => {
        together = await Promise.all(asked.map((digest) => tokens.getByTokenWithUser(digest)));
      });
      expect(together).toEqual(alone);
      const names = sent.map((event) => event.commandName);
      if (names.includes("aggregate")) {
        // With $lookup (MongoDB): one aggregate per call, not batched.
        expect(serverKind).not.toBe("ferretdb");
        expect(names).toEqual(asked.map(() => "aggregate"));
        return;
      }
      expect(serverKind).not.toBe("mongod");
      expect(sent.map((event) => event.command.find)).toEqual([
        tokenCollection.collectionName,
        userCollection.collectionName,
      ]);
      const [tokenFind, userFind] = sent as [CommandStartedEvent, CommandStartedEvent];
      expect(sorted(idsOf(tokenFind))).toEqual(
        sorted([adaLive, bobLive, adaExpired, orphan, ...unknown]),
      );
      // The users of the tokens found, each once, in their stored BSON type.
      expect(sorted(idsOf(userFind))).toEqual(sorted([ada.id, bob.id, gone.id]));
      for (const id of userFind.command.filter._id.$in) {
        expect(idType === "objectId" ? id instanceof ObjectId : typeof id === "string").toBe(true);
      }
    });

    it("concurrent users.get (existing, unknown, duplicates, malformed): one find with the distinct stored ids", async () => {
      const { users } = await adapters(idType);
      const ada = await users.create(userCreateData("ada@example.com"));
      const bob = await users.create(userCreateData("bob@example.com"));
      const unknown = idType === "objectId" ? new ObjectId().toHexString() : crypto.randomUUID();
      // A UUID is case-insensitive: its upper-case spelling is the same user, read once.
      const adaAgain = idType === "uuid" ? ada.id.toUpperCase() : ada.id;
      const asked = [ada.id, unknown, bob.id, adaAgain, "not-an-id", bob.id];
      let found: unknown[] = [];
      const sent = await readsDuring(async () => {
        found = await Promise.all(asked.map((id) => users.get(id)));
      });
      expect(found).toEqual([ada, null, bob, ada, null, bob]);
      expect(sent).toHaveLength(1);
      expect(sorted(idsOf(sent[0] as CommandStartedEvent))).toEqual(
        sorted([ada.id, unknown, bob.id]),
      );
    });

    it("concurrent getByHandle (session data of many requests; unknown, duplicate, another case): one find on handle with the distinct handles", async () => {
      const { users, tokens, tokenCollection } = await adapters(idType);
      const ada = await users.create(userCreateData("ada@example.com"));
      const digests = [hashToken(generateOpaqueToken()), hashToken(generateOpaqueToken())];
      for (const digest of digests) {
        await tokens.create({
          token: digest,
          userId: ada.id,
          createdAt: new Date(),
          lifetimeSeconds: 60,
          handle: sessionIdFromDigest(digest),
        });
      }
      const [a, b] = digests.map(sessionIdFromDigest) as [string, string];
      const unknown = sessionIdFromDigest(hashToken("unknown"));
      // Handles are base64url: one differing in case only is another handle.
      const asked = [a, unknown, b, a, b.toUpperCase()];
      let found: ({ token: string } | null)[] = [];
      const sent = await readsDuring(async () => {
        found = await Promise.all(asked.map((handle) => tokens.getByHandle(handle)));
      });
      expect(found.map((row) => row?.token ?? null)).toEqual([
        digests[0],
        null,
        digests[1],
        digests[0],
        null,
      ]);
      expect(found[0]).not.toBe(found[3]);
      expect(sent).toHaveLength(1);
      const [find] = sent as [CommandStartedEvent];
      expect(find.command.find).toBe(tokenCollection.collectionName);
      expect(sorted(find.command.filter.handle.$in)).toEqual(
        sorted([a, unknown, b, b.toUpperCase()]),
      );
    });

    it("a lone lookup is the single-key find, { _id } equality", async () => {
      const { users, tokens } = await adapters(idType);
      const { user: ada, digest } = await userWithToken(users, tokens, "ada@example.com", 60);
      const one = async (fn: () => Promise<unknown>) =>
        (await readsDuring(fn)).map((event) => event.command.filter);
      const [byId] = await one(() => users.get(ada.id));
      expect(String(byId._id)).toBe(ada.id);
      expect(byId._id.$in).toBeUndefined();
      expect(await one(() => tokens.getByToken(digest))).toEqual([{ _id: digest }]);
      // Two callers of the same id share that same single-key find.
      expect((await one(() => Promise.all([users.get(ada.id), users.get(ada.id)]))).length).toBe(1);
    });

    it("more than 128 lookups at once go out as finds of at most 128 ids", async () => {
      const { users } = await adapters(idType);
      const ada = await users.create(userCreateData("ada@example.com"));
      const newId = () =>
        idType === "objectId" ? new ObjectId().toHexString() : crypto.randomUUID();
      const asked = [...Array.from({ length: 199 }, newId), ada.id];
      let found: unknown[] = [];
      const sent = await readsDuring(async () => {
        found = await Promise.all(asked.map((id) => users.get(id)));
      });
      expect(found.filter(Boolean)).toEqual([ada]);
      expect(sent.map((event) => idsOf(event).length)).toEqual([128, 72]);
    });

    it("an adapter made with a session reads alone, in its session; the others still batch", async () => {
      const { userCollection, users } = await adapters(idType);
      const ada = await users.create(userCreateData("ada@example.com"));
      const bob = await users.create(userCreateData("bob@example.com"));
      const session = client.startSession();
      try {
        const inSession = new MongoUserDatabase(userCollection, { idType, session });
        let found: unknown[] = [];
        const sent = await readsDuring(async () => {
          found = await Promise.all([
            inSession.get(ada.id),
            inSession.get(bob.id),
            users.get(ada.id),
            users.get(bob.id),
          ]);
        });
        expect(found).toEqual([ada, bob, ada, bob]);
        const inOwnSession = (event: CommandStartedEvent) =>
          JSON.stringify(event.command.lsid) === JSON.stringify(session.id);
        const own = sent.filter(inOwnSession);
        expect(own.map(idsOf)).toEqual([[ada.id], [bob.id]]);
        expect(own.map((event) => event.command.filter._id.$in)).toEqual([undefined, undefined]);
        const others = sent.filter((event) => !own.includes(event));
        expect(others.map((event) => sorted(idsOf(event)))).toEqual([sorted([ada.id, bob.id])]);
      } finally {
        await session.endSession();
      }
    });
  },
);
