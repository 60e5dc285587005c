import { strict as assert } from "node:assert";
import { UserAlreadyExistsError, UserUpdateConflictError } from "../errors.js";
import type { UserCreateData, UserProtocol } from "../models.js";
import type { AdapterFixture, ConformanceCase } from "./adapter-conformance.js";

/** A user to create with `email`; the hash is well-formed, never checked. */
export const userData = (email: string, extra: Record<string, unknown> = {}): UserCreateData => ({
  email,
  hashedPassword: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaGhhc2g",
  isActive: true,
  isSuperuser: false,
  isVerified: false,
  ...extra,
});

/** `actual` is an object with every field of `expected`, each deeply equal (other fields may differ). */
export function assertFields(actual: unknown, expected: Record<string, unknown>): void {
  assert.ok(typeof actual === "object" && actual !== null, `not an object: ${String(actual)}`);
  for (const [key, value] of Object.entries(expected)) {
    assert.deepStrictEqual((actual as Record<string, unknown>)[key], value, key);
  }
}

/** The rules every {@link UserDatabase} follows, for the adapter under `fixture`. */
export function userDatabaseCases<ID>(fixture: AdapterFixture<ID>): ConformanceCase[] {
  // FerretDB v1 runs a filtered update as a read then a write, so it cannot make this
  // atomic; there the race case pins what does hold instead of being skipped.
  const atomic = fixture.atomicConditionalUpdates !== false;
  return [
    {
      name: "create returns the user with an id and every field; get and getByEmail find it",
      async run() {
        const db = fixture.users();
        const extra = fixture.extraField
          ? { [fixture.extraField.key]: fixture.extraField.value }
          : {};
        const user = await db.create(userData("ada@example.com", extra));
        assertFields(user, {
          email: "ada@example.com",
          isActive: true,
          isSuperuser: false,
          isVerified: false,
        });
        assert.notEqual(user.id, undefined);
        assertFields(await db.get(user.id), { id: user.id, email: "ada@example.com", ...extra });
        assert.deepStrictEqual((await db.getByEmail("ada@example.com"))?.id, user.id);
      },
    },
    {
      name: "emails are stored normalized and matched case-insensitively",
      async run() {
        const db = fixture.users();
        const user = await db.create(userData("Grace.Hopper@Example.COM"));
        assert.equal(user.email, "grace.hopper@example.com");
        assert.deepStrictEqual((await db.getByEmail("GRACE.HOPPER@example.com"))?.id, user.id);
        assert.equal(await db.getByEmail("grace.hopper@example.org"), null);
      },
    },
    {
      name: "a second user with the same email in another case -> UserAlreadyExistsError",
      async run() {
        const db = fixture.users();
        await db.create(userData("dup@example.com"));
        await assert.rejects(db.create(userData("DUP@example.com")), UserAlreadyExistsError);
      },
    },
    {
      name: "20 concurrent creates of one email end in exactly one user (the unique index decides)",
      async run() {
        const db = fixture.users();
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) =>
            db.create(userData(i % 2 ? "race@example.com" : "RACE@example.com")),
          ),
        );
        const created = results.filter((r) => r.status === "fulfilled");
        const rejected = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
        assert.equal(created.length, 1);
        for (const r of rejected) assert.ok(r.reason instanceof UserAlreadyExistsError, r.reason);
      },
    },
    {
      name: "update changes fields and returns the updated user",
      async run() {
        const db = fixture.users();
        const user = await db.create(userData("upd@example.com"));
        const updated = await db.update(user, {
          isVerified: true,
          isSuperuser: true,
          hashedPassword: "new-hash",
        });
        assertFields(updated, {
          id: user.id,
          isVerified: true,
          isSuperuser: true,
          hashedPassword: "new-hash",
        });
        assertFields(await db.get(user.id), {
          isVerified: true,
          isSuperuser: true,
          hashedPassword: "new-hash",
        });
      },
    },
    {
      name: "update to another user's email -> UserAlreadyExistsError, nothing changed",
      async run() {
        const db = fixture.users();
        await db.create(userData("one@example.com"));
        const two = await db.create(userData("two@example.com"));
        await assert.rejects(db.update(two, { email: "ONE@example.com" }), UserAlreadyExistsError);
        assert.equal((await db.get(two.id))?.email, "two@example.com");
      },
    },
    {
      name: "ASVS 5.0 15.4.2: update with expectedHashedPassword writes only while the hash matches",
      async run() {
        const db = fixture.users();
        const user = await db.create(userData("cas@example.com"));
        const updated = await db.update(
          user,
          { hashedPassword: "hash-2", isVerified: true },
          { expectedHashedPassword: user.hashedPassword },
        );
        assertFields(updated, { hashedPassword: "hash-2", isVerified: true });
        // The hash moved on: the same condition now fails and changes nothing.
        await assert.rejects(
          db.update(
            user,
            { hashedPassword: "hash-3", isSuperuser: true },
            { expectedHashedPassword: user.hashedPassword },
          ),
          UserUpdateConflictError,
        );
        assertFields(await db.get(user.id), { hashedPassword: "hash-2", isSuperuser: false });
        assertFields(
          await db.update(user, { isVerified: false }, { expectedHashedPassword: "hash-2" }),
          { isVerified: false },
        );
      },
    },
    {
      name: `ASVS 5.0 15.4.2: 10 concurrent compare-and-set updates from one hash -> ${
        atomic ? "exactly one wins" : "(FerretDB v1, not atomic) the stored hash is a winner's"
      }`,
      async run() {
        const db = fixture.users();
        const user = await db.create(userData("cas-race@example.com"));
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) =>
            db.update(
              user,
              { hashedPassword: `racer-${i}` },
              { expectedHashedPassword: user.hashedPassword },
            ),
          ),
        );
        const won = results.filter((r) => r.status === "fulfilled") as PromiseFulfilledResult<
          UserProtocol<ID>
        >[];
        if (atomic) assert.equal(won.length, 1);
        else assert.ok(won.length >= 1, `${won.length} winners`);
        for (const r of results) {
          if (r.status === "rejected") {
            assert.ok(r.reason instanceof UserUpdateConflictError, r.reason);
          }
        }
        const stored = (await db.get(user.id))?.hashedPassword;
        assert.ok(
          won.map((w) => w.value.hashedPassword).includes(stored as string),
          `stored ${stored}`,
        );
      },
    },
    {
      name: "a conditional update of a deleted user -> UserUpdateConflictError",
      async run() {
        const db = fixture.users();
        const user = await db.create(userData("cas-gone@example.com"));
        await db.delete(user);
        await assert.rejects(
          db.update(user, { hashedPassword: "x" }, { expectedHashedPassword: user.hashedPassword }),
          UserUpdateConflictError,
        );
      },
    },
    {
      name: "delete removes the user",
      async run() {
        const db = fixture.users();
        const user = await db.create(userData("del@example.com"));
        await db.delete(user);
        assert.equal(await db.get(user.id), null);
        assert.equal(await db.getByEmail("del@example.com"), null);
      },
    },
    {
      name: "an unknown id reads as null",
      async run() {
        assert.equal(await fixture.users().get(fixture.unknownId), null);
      },
    },
    {
      name: "malformed ids read as null, never a driver error",
      async run() {
        const db = fixture.users();
        for (const id of fixture.malformedIds) assert.equal(await db.get(id as ID), null);
      },
    },
    {
      name: "getByEmail with operator-looking input finds nothing",
      async run() {
        const db = fixture.users();
        await db.create(userData("op@example.com"));
        assert.equal(await db.getByEmail('{"$ne":null}'), null);
        assert.equal(await db.getByEmail("%"), null);
        assert.equal(await db.getByEmail("op@example.com' OR '1'='1"), null);
      },
    },
    // Bug: a login with a NUL byte in the username was a 500 on PostgreSQL, which
    // rejects U+0000 in text ("invalid byte sequence for encoding UTF8: 0x00").
    {
      name: "getByEmail with a NUL byte or control characters finds nothing, never a driver error",
      async run() {
        const db = fixture.users();
        await db.create(userData("nul@example.com"));
        for (const email of [
          "nul@example.com\u0000",
          "\u0000",
          "n\u0000ul@example.com",
          "nul@example.com\u0001\u001f",
        ]) {
          assert.equal(await db.getByEmail(email), null);
        }
      },
    },
  ];
}
