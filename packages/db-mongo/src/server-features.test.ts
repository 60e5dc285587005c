import { MongoServerError, ObjectId } from "mongodb";
import { describe, expect, it } from "vitest";
import { knownFeatures } from "./capabilities.js";
import { MongoAccessTokenDatabase } from "./mongo-access-token-database.js";
import { MongoUserDatabase } from "./mongo-user-database.js";
import type { MongoAccessTokenDocument } from "./token-document.js";
import type { MongoUserDocument } from "./user-document.js";

// The harness's server is FerretDB v1, which has neither $lookup nor $expr, so the
// integration tests exercise the fallbacks. These pin the preferred paths against a
// scripted collection: the pipeline and filter sent, and how answers are mapped.

const userId = new ObjectId();
const userDoc: MongoUserDocument = {
  _id: userId,
  email: "ada@example.com",
  hashed_password: "h",
  is_active: true,
  is_superuser: false,
  is_verified: true,
};
const tokenDoc: MongoAccessTokenDocument = {
  _id: "d".repeat(64),
  user_id: userId,
  created_at: new Date("2030-01-01T00:00:00.000Z"),
  lifetime_seconds: 600,
};
const notImplemented = () =>
  new MongoServerError({
    ok: 0,
    code: 238,
    errmsg: '`aggregate` stage "$lookup" is not implemented yet',
  });

function setup(script: Record<string, (...args: unknown[]) => unknown>) {
  const sent: { method: string; arg: unknown }[] = [];
  const collection = (name: string) =>
    new Proxy({ dbName: "app", collectionName: name } as Record<string, unknown>, {
      get(target, property: string) {
        if (property in target) return target[property];
        return (arg: unknown) => {
          sent.push({ method: `${name}.${property}`, arg });
          const answer = script[`${name}.${property}`];
          if (!answer) throw new Error(`unscripted call ${name}.${property}`);
          return answer(arg);
        };
      },
    });
  const users = new MongoUserDatabase(collection("users") as never);
  const tokens = new MongoAccessTokenDatabase(collection("tokens") as never, { users });
  return { sent, tokens };
}

describe("getByTokenWithUser where $lookup exists", () => {
  it("sends one aggregate: match the digest as _id, limit 1, $lookup the user by _id", async () => {
    const { sent, tokens } = setup({
      "tokens.aggregate": () => ({ toArray: async () => [{ ...tokenDoc, user: [userDoc] }] }),
    });
    const found = await tokens.getByTokenWithUser(tokenDoc._id);
    expect(sent).toEqual([
      {
        method: "tokens.aggregate",
        arg: [
          { $match: { _id: tokenDoc._id } },
          { $limit: 1 },
          { $lookup: { from: "users", localField: "user_id", foreignField: "_id", as: "user" } },
        ],
      },
    ]);
    expect(found).toEqual({
      accessToken: {
        token: tokenDoc._id,
        userId: userId.toHexString(),
        createdAt: tokenDoc.created_at,
        lifetimeSeconds: 600,
        // A document of an earlier release: no session or refresh fields, read as null.
        handle: null,
        lastUsedAt: null,
        ipAddress: null,
        userAgent: null,
        data: null,
        claims: null,
        refreshDigest: null,
        refreshParentDigest: null,
      },
      user: expect.objectContaining({
        id: userId.toHexString(),
        email: "ada@example.com",
        isVerified: true,
      }),
    });
  });

  it("is null when the token's user is gone (empty $lookup) or the token is unknown", async () => {
    const rows = [[{ ...tokenDoc, user: [] }], []];
    const { tokens } = setup({ "tokens.aggregate": () => ({ toArray: async () => rows.shift() }) });
    expect(await tokens.getByTokenWithUser(tokenDoc._id)).toBeNull();
    expect(await tokens.getByTokenWithUser(tokenDoc._id)).toBeNull();
  });
});

describe("getByTokenWithUser where $lookup is NotImplemented", () => {
  it("falls back to two finds, and remembers it for the collection", async () => {
    const { sent, tokens } = setup({
      "tokens.aggregate": () => ({
        toArray: async () => {
          throw notImplemented();
        },
      }),
      "tokens.findOne": async () => tokenDoc,
      "users.findOne": async () => userDoc,
    });
    expect((await tokens.getByTokenWithUser(tokenDoc._id))?.user.id).toBe(userId.toHexString());
    expect(await tokens.getByTokenWithUser(tokenDoc._id)).not.toBeNull();
    expect(sent.map((s) => s.method)).toEqual([
      "tokens.aggregate",
      "tokens.findOne",
      "users.findOne",
      "tokens.findOne",
      "users.findOne",
    ]);
    expect(knownFeatures(tokens.collection)).toEqual({ lookup: false });
  });
});

describe("deleteExpired where $expr exists", () => {
  it("is one deleteMany comparing created_at + lifetime_seconds * 1000 with now", async () => {
    const now = new Date();
    const { sent, tokens } = setup({ "tokens.deleteMany": async () => ({ deletedCount: 3 }) });
    expect(await tokens.deleteExpired(now)).toBe(3);
    expect(sent).toEqual([
      {
        method: "tokens.deleteMany",
        arg: {
          $expr: {
            $lte: [{ $add: ["$created_at", { $multiply: ["$lifetime_seconds", 1000] }] }, now],
          },
        },
      },
    ]);
    expect(knownFeatures(tokens.collection)).toEqual({ expr: true });
  });
});
