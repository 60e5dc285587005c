import { strict as assert } from "node:assert";
import { generateOpaqueToken, hashToken } from "../tokens/opaque.js";
import type { AdapterFixture, ConformanceCase } from "./adapter-conformance.js";
import { assertFields, userData } from "./user-database-cases.js";

/** The rules every {@link AccessTokenDatabase} follows, for the adapter under `fixture`. */
export function accessTokenDatabaseCases<ID>(fixture: AdapterFixture<ID>): ConformanceCase[] {
  async function userWithToken(email: string, lifetimeSeconds = 3600, createdAt = new Date()) {
    const user = await fixture.users().create(userData(email));
    const token = generateOpaqueToken();
    const at = await fixture
      .tokens()
      .create({ token: hashToken(token), userId: user.id, createdAt, lifetimeSeconds });
    return { user, token, at };
  }

  return [
    {
      name: "create and getByToken round-trip every field (createdAt to the millisecond)",
      async run() {
        const createdAt = new Date(Date.now() - 1234);
        const { user, at } = await userWithToken("tok@example.com", 600, createdAt);
        const read = await fixture.tokens().getByToken(at.token);
        assertFields(read, { token: at.token, lifetimeSeconds: 600 });
        assert.equal(String(read?.userId), String(user.id));
        assert.equal(read?.createdAt.getTime(), createdAt.getTime());
      },
    },
    {
      name: "only digests are stored: the store never holds the token itself",
      async run() {
        const { token, at } = await userWithToken("dig@example.com");
        const stored = await fixture.storedTokenValues();
        assert.ok(stored.includes(at.token), "the digest is stored");
        assert.ok(!stored.includes(token), "the token itself is not stored");
        assert.notEqual(at.token, token);
        assert.equal(await fixture.tokens().getByToken(token), null);
      },
    },
    {
      name: "getByToken of an unknown digest or garbage is null",
      async run() {
        const db = fixture.tokens();
        assert.equal(await db.getByToken(hashToken("nope")), null);
        assert.equal(await db.getByToken(""), null);
        assert.equal(await db.getByToken('{"$gt":""}'), null);
      },
    },
    {
      name: "update changes lifetimeSeconds only",
      async run() {
        const { at } = await userWithToken("life@example.com", 100);
        const updated = await fixture.tokens().update(at, { lifetimeSeconds: 900 });
        assert.equal(updated.lifetimeSeconds, 900);
        const read = await fixture.tokens().getByToken(at.token);
        assert.equal(read?.lifetimeSeconds, 900);
        assert.equal(read?.createdAt.getTime(), at.createdAt.getTime());
      },
    },
    {
      name: "delete removes one token",
      async run() {
        const { at } = await userWithToken("logout@example.com");
        await fixture.tokens().delete(at);
        assert.equal(await fixture.tokens().getByToken(at.token), null);
      },
    },
    {
      name: "deleteAllForUser removes that user's tokens and no one else's",
      async run() {
        const a = await userWithToken("a@example.com");
        const extra = await fixture.tokens().create({
          token: hashToken(generateOpaqueToken()),
          userId: a.user.id,
          createdAt: new Date(),
          lifetimeSeconds: 3600,
        });
        const b = await userWithToken("b@example.com");
        await fixture.tokens().deleteAllForUser(a.user.id);
        assert.equal(await fixture.tokens().getByToken(a.at.token), null);
        assert.equal(await fixture.tokens().getByToken(extra.token), null);
        assert.notEqual(await fixture.tokens().getByToken(b.at.token), null);
      },
    },
    {
      name: "ASVS 5.0 7.4.3: deleteAllForUser with exceptDigest keeps that one token of the user",
      async run() {
        const a = await userWithToken("except-a@example.com");
        const extra = await fixture.tokens().create({
          token: hashToken(generateOpaqueToken()),
          userId: a.user.id,
          createdAt: new Date(),
          lifetimeSeconds: 3600,
        });
        const b = await userWithToken("except-b@example.com");
        await fixture.tokens().deleteAllForUser(a.user.id, { exceptDigest: a.at.token });
        assert.notEqual(await fixture.tokens().getByToken(a.at.token), null);
        assert.equal(await fixture.tokens().getByToken(extra.token), null);
        assert.notEqual(await fixture.tokens().getByToken(b.at.token), null);
        // Another user's digest as the exception spares nothing of this user.
        await fixture.tokens().deleteAllForUser(a.user.id, { exceptDigest: b.at.token });
        assert.equal(await fixture.tokens().getByToken(a.at.token), null);
        assert.notEqual(await fixture.tokens().getByToken(b.at.token), null);
      },
    },
    {
      name: "deleteExpired removes exactly the expired tokens and returns their count",
      async run() {
        const now = new Date();
        const old = await userWithToken("old@example.com", 60, new Date(now.getTime() - 61_000));
        const edge = await userWithToken("edge@example.com", 60, new Date(now.getTime() - 60_000));
        const fresh = await userWithToken(
          "fresh@example.com",
          60,
          new Date(now.getTime() - 59_000),
        );
        assert.equal(await fixture.tokens().deleteExpired(now), 2);
        assert.equal(await fixture.tokens().getByToken(old.at.token), null);
        assert.equal(await fixture.tokens().getByToken(edge.at.token), null);
        assert.notEqual(await fixture.tokens().getByToken(fresh.at.token), null);
      },
    },
    {
      name: "listByUser (when implemented) returns exactly that user's tokens",
      async run() {
        const db = fixture.tokens();
        if (!db.listByUser) return assert.equal(db.listByUser, undefined);
        const a = await userWithToken("list-a@example.com");
        await db.create({
          token: hashToken(generateOpaqueToken()),
          userId: a.user.id,
          createdAt: new Date(),
          lifetimeSeconds: 60,
        });
        await userWithToken("list-b@example.com");
        const rows = await db.listByUser(a.user.id);
        assert.equal(rows.length, 2);
        for (const row of rows) assert.equal(String(row.userId), String(a.user.id));
        assert.ok(
          rows.map((r) => r.token).includes(a.at.token),
          "the user's first token is listed",
        );
      },
    },
    {
      name: "deleting a user removes (cascades to) their tokens",
      async run() {
        const { user, at } = await userWithToken("cascade@example.com");
        await fixture.users().delete(user);
        assert.equal(await fixture.tokens().getByToken(at.token), null);
      },
    },
    {
      name: "getByTokenWithUser reads the token and its user together, null when either is missing",
      async run() {
        const db = fixture.tokens();
        if (!db.getByTokenWithUser) throw new Error(`${fixture.name} has no one-round-trip read`);
        const { user, at } = await userWithToken("join@example.com");
        const both = await db.getByTokenWithUser(at.token);
        assertFields(both?.accessToken, { token: at.token, lifetimeSeconds: 3600 });
        assertFields(both?.user, { id: user.id, email: "join@example.com", isActive: true });
        assert.equal(await db.getByTokenWithUser(hashToken("unknown")), null);
      },
    },
  ];
}
