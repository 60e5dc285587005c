import { strict as assert } from "node:assert";
import type { AccessTokenProtocol, AccessTokenRotation } from "../models.js";
import { generateOpaqueToken, hashToken, sessionIdFromDigest } from "../tokens/opaque.js";
import type { AdapterFixture, ConformanceCase } from "./adapter-conformance.js";
import { userData } from "./user-database-cases.js";

const digest = () => hashToken(generateOpaqueToken());

/**
 * The refresh-token fields of a token row and `rotateRefresh` (issue 15), for the adapter
 * under `fixture`. `rotateRefresh` is optional: an adapter without it is checked to lack it.
 */
export function refreshCases<ID>(fixture: AdapterFixture<ID>): ConformanceCase[] {
  // FerretDB v1 runs a filtered update as a read then a write (see AdapterFixture).
  const atomic = fixture.atomicConditionalUpdates !== false;

  async function create(email: string, fields: Partial<AccessTokenProtocol<ID>> = {}) {
    const user = await fixture.users().create(userData(email));
    const key = digest();
    const at = await fixture.tokens().create({
      token: key,
      userId: user.id,
      createdAt: new Date(Date.now() - 1000),
      lifetimeSeconds: 3600,
      handle: sessionIdFromDigest(key),
      ...fields,
    });
    return { user, key, at };
  }
  const rotation = (refreshParentDigest: string, lifetimeSeconds = 7200): AccessTokenRotation => ({
    refreshDigest: digest(),
    refreshParentDigest,
    lifetimeSeconds,
    lastUsedAt: new Date(Date.now() - 100),
  });

  return [
    {
      name: "refresh: create stores refreshDigest and refreshParentDigest; every read returns them",
      async run() {
        const current = digest();
        const parent = digest();
        const { user, key, at } = await create("refresh-fields@example.com", {
          refreshDigest: current,
          refreshParentDigest: parent,
        });
        assert.equal(at.refreshDigest, current);
        const db = fixture.tokens();
        const reads: (AccessTokenProtocol<ID> | null | undefined)[] = [await db.getByToken(key)];
        if (db.getByTokenWithUser) reads.push((await db.getByTokenWithUser(key))?.accessToken);
        if (db.listByUser) reads.push((await db.listByUser(user.id)).find((r) => r.token === key));
        if (db.getByHandle) reads.push(await db.getByHandle(sessionIdFromDigest(key)));
        for (const read of reads) {
          assert.ok(read, "the row is read");
          assert.equal(read.refreshDigest, current);
          assert.equal(read.refreshParentDigest, parent);
        }
        // A row with a current digest and no parent yet (a new refresh session).
        const fresh = await create("refresh-fresh@example.com", { refreshDigest: current });
        const read = await db.getByToken(fresh.key);
        assert.equal(read?.refreshDigest, current);
        assert.equal(read?.refreshParentDigest ?? null, null);
      },
    },
    {
      name: "refresh: rotateRefresh (when implemented) writes the rotation when the current digest is the expected one, and nothing else",
      async run() {
        const db = fixture.tokens();
        if (!db.rotateRefresh) return assert.equal(db.rotateRefresh, undefined);
        const first = digest();
        const { key, at } = await create("rotate@example.com", {
          refreshDigest: first,
          ipAddress: "203.0.113.7",
          userAgent: "ua",
          data: { keep: 1 },
          claims: { c: 1 },
        });
        const r1 = rotation(first);
        assert.equal(await db.rotateRefresh(key, first, r1), true);
        let read = await db.getByToken(key);
        assert.equal(read?.refreshDigest, r1.refreshDigest);
        assert.equal(read?.refreshParentDigest, first);
        assert.equal(read?.lifetimeSeconds, 7200);
        assert.equal(read?.lastUsedAt?.getTime(), r1.lastUsedAt.getTime());
        assert.equal(read?.createdAt.getTime(), at.createdAt.getTime());
        assert.equal(read?.handle, sessionIdFromDigest(key));
        assert.equal(read?.ipAddress, "203.0.113.7");
        assert.equal(read?.userAgent, "ua");
        assert.deepStrictEqual(read?.data, { keep: 1 });
        assert.deepStrictEqual(read?.claims, { c: 1 });
        assert.equal(String(read?.userId), String(at.userId));

        // The old digest, any other digest: no match, nothing written.
        assert.equal(await db.rotateRefresh(key, first, rotation(first, 9000)), false);
        assert.equal(await db.rotateRefresh(key, digest(), rotation(first, 9000)), false);
        read = await db.getByToken(key);
        assert.equal(read?.refreshDigest, r1.refreshDigest);
        assert.equal(read?.refreshParentDigest, first);
        assert.equal(read?.lifetimeSeconds, 7200);

        // The next rotation from the new current digest lands.
        const r2 = rotation(r1.refreshDigest, 7300);
        assert.equal(await db.rotateRefresh(key, r1.refreshDigest, r2), true);
        read = await db.getByToken(key);
        assert.equal(read?.refreshDigest, r2.refreshDigest);
        assert.equal(read?.refreshParentDigest, r1.refreshDigest);
        assert.equal(read?.lifetimeSeconds, 7300);
      },
    },
    {
      name: "refresh: rotateRefresh (when implemented) of an unknown, deleted, non-refresh or garbage row answers false and creates nothing",
      async run() {
        const db = fixture.tokens();
        if (!db.rotateRefresh) return assert.equal(db.rotateRefresh, undefined);
        const unknown = digest();
        assert.equal(await db.rotateRefresh(unknown, digest(), rotation(digest())), false);
        assert.equal(await db.getByToken(unknown), null);

        const current = digest();
        const gone = await create("rotate-gone@example.com", { refreshDigest: current });
        await db.delete(gone.at);
        assert.equal(await db.rotateRefresh(gone.key, current, rotation(current)), false);
        assert.equal(await db.getByToken(gone.key), null);

        // A session row of another kind (no refresh digest) never matches, whatever is expected.
        const plain = await create("rotate-plain@example.com");
        for (const expected of ["", "null", digest()]) {
          assert.equal(await db.rotateRefresh(plain.key, expected, rotation(expected)), false);
        }
        const read = await db.getByToken(plain.key);
        assert.equal(read?.refreshDigest ?? null, null);
        assert.equal(read?.lifetimeSeconds, 3600);

        for (const garbage of ["", '{"$gt":""}', "a".repeat(10_000)]) {
          assert.equal(await db.rotateRefresh(garbage, current, rotation(current)), false);
          assert.equal(await db.rotateRefresh(plain.key, garbage, rotation(current)), false);
        }
      },
    },
    {
      name: `refresh: 20 concurrent rotateRefresh calls from one expected digest -> ${
        atomic ? "exactly one lands" : "(FerretDB v1, not atomic) the stored rotation is a winner's"
      }`,
      async run() {
        const db = fixture.tokens();
        if (!db.rotateRefresh) return assert.equal(db.rotateRefresh, undefined);
        const current = digest();
        const { key } = await create("rotate-race@example.com", { refreshDigest: current });
        const rotations = Array.from({ length: 20 }, () => rotation(current));
        const results = await Promise.all(
          rotations.map((r) => db.rotateRefresh?.(key, current, r) as Promise<boolean>),
        );
        const won = rotations.filter((_, i) => results[i] === true);
        if (atomic) assert.equal(won.length, 1, `${won.length} rotations landed`);
        else assert.ok(won.length >= 1, `${won.length} rotations landed`);
        const read = await db.getByToken(key);
        assert.ok(
          won.some((r) => r.refreshDigest === read?.refreshDigest),
          "the stored digest is a winner's",
        );
        assert.equal(read?.refreshParentDigest, current);
      },
    },
  ];
}
