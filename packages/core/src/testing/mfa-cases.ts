import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import { PasskeyAlreadyRegisteredError, UserNotExistsError } from "../errors.js";
import { isMfaDatabase, type MfaDatabase, type PasskeyCredential } from "../mfa/models.js";
import type { UserDatabase, UserProtocol } from "../models.js";
import type { AdapterFixture, ConformanceCase } from "./adapter-conformance.js";
import { userData } from "./user-database-cases.js";

type MfaUsers<ID> = UserDatabase<UserProtocol<ID>, ID> & MfaDatabase<ID>;

// Dates with whole milliseconds: every database keeps at least those.
const at = (iso: string): Date => new Date(iso);

/** A passkey to register; `extra` overrides any field. */
export const passkeyData = (
  id: string,
  extra: Partial<PasskeyCredential> = {},
): PasskeyCredential => ({
  id,
  publicKey: `pk-${id}-${"A".repeat(100)}`,
  counter: 0,
  transports: ["internal", "hybrid"],
  name: `Key ${id}`,
  backedUp: true,
  createdAt: at("2026-12-01T10:00:00.123Z"),
  lastUsedAt: null,
  ...extra,
});

// A TOTP secret as @tessera/mfa stores it: versioned, key id, base64url ciphertext.
const SECRET = `v1.k1.${"AZaz09-_".repeat(12)}`;
// WebAuthn allows credential ids up to 1023 bytes: 1364 base64url characters.
const LONG_CREDENTIAL_ID = randomBytes(1023).toString("base64url");
// An RSA-4096 COSE key is about 550 bytes; 2 KiB of base64url leaves room.
const LONG_PUBLIC_KEY = randomBytes(1536).toString("base64url");
// The largest signature counter WebAuthn has (unsigned 32-bit): beyond a 32-bit signed column.
const MAX_COUNTER = 2 ** 32 - 1;
const PARALLEL = 8;

function exactlyOne(results: boolean[], what: string): void {
  assert.equal(results.filter(Boolean).length, 1, `${what}: ${results.join(", ")}`);
}

/**
 * The rules every user database that keeps second factors and passkeys ({@link MfaDatabase})
 * follows. With `fixture.mfa === false` the adapter says it keeps none: one case then checks
 * that its user database indeed does not implement the interface. Otherwise every case fails
 * (never skips) on a user database that does not implement it.
 */
export function mfaCases<ID>(fixture: AdapterFixture<ID>): ConformanceCase[] {
  if (fixture.mfa === false) {
    return [
      {
        name: "mfa: false — the user database does not implement MfaDatabase",
        async run() {
          assert.equal(
            isMfaDatabase(fixture.users()),
            false,
            `${fixture.name}: the user database implements MfaDatabase; drop mfa: false so the MFA cases run`,
          );
        },
      },
    ];
  }
  // FerretDB v1 runs a filtered update as a read then a write (see AdapterFixture).
  const atomic = fixture.atomicConditionalUpdates !== false;
  const mfaUsers = (): MfaUsers<ID> => {
    const db = fixture.users();
    assert.ok(
      isMfaDatabase<typeof db, ID>(db),
      `${fixture.name}: the user database does not implement MfaDatabase (getMfa, setTotp, ` +
        "advanceTotpStep, setRecoveryCodes, useRecoveryCode, listPasskeys, getPasskey, " +
        "addPasskey, updatePasskeyCounter, removePasskey); implement it, or pass mfa: false in the fixture",
    );
    return db;
  };
  const create = async (db: MfaUsers<ID>, email: string) => (await db.create(userData(email))).id;

  return [
    {
      name: "getMfa of a user with nothing stored: no factor, no recovery codes",
      async run() {
        const db = mfaUsers();
        const id = await create(db, "mfa-empty@example.com");
        assert.deepStrictEqual(await db.getMfa(id), { totp: null, recoveryCodes: [] });
        assert.deepStrictEqual(await db.listPasskeys(id), []);
      },
    },
    {
      name: "setTotp stores a pending factor, then a confirmed one, as given; null removes it",
      async run() {
        const db = mfaUsers();
        const id = await create(db, "mfa-totp@example.com");
        const other = await create(db, "mfa-totp-other@example.com");
        await db.setTotp(id, { secret: SECRET, confirmedAt: null, lastStep: -1 });
        assert.deepStrictEqual((await db.getMfa(id)).totp, {
          secret: SECRET,
          confirmedAt: null,
          lastStep: -1,
        });
        const confirmedAt = at("2026-12-06T09:00:00.456Z");
        await db.setTotp(id, { secret: SECRET, confirmedAt, lastStep: 59_000_000 });
        assert.deepStrictEqual((await db.getMfa(id)).totp, {
          secret: SECRET,
          confirmedAt,
          lastStep: 59_000_000,
        });
        assert.equal((await db.getMfa(other)).totp, null);
        await db.setTotp(id, null);
        assert.equal((await db.getMfa(id)).totp, null);
        await db.setTotp(id, null);
        assert.equal((await db.getMfa(id)).totp, null);
      },
    },
    {
      name: "ASVS 5.0 6.5.1: advanceTotpStep records a step once: only a later step moves it; no factor -> false",
      async run() {
        const db = mfaUsers();
        const id = await create(db, "mfa-step@example.com");
        assert.equal(await db.advanceTotpStep(id, 100), false);
        await db.setTotp(id, { secret: SECRET, confirmedAt: null, lastStep: -1 });
        assert.equal(await db.advanceTotpStep(id, 100), true);
        assert.equal(await db.advanceTotpStep(id, 100), false);
        assert.equal(await db.advanceTotpStep(id, 99), false);
        assert.equal((await db.getMfa(id)).totp?.lastStep, 100);
        assert.equal(await db.advanceTotpStep(id, 102), true);
        assert.equal(await db.advanceTotpStep(id, 101), false);
        assert.deepStrictEqual((await db.getMfa(id)).totp, {
          secret: SECRET,
          confirmedAt: null,
          lastStep: 102,
        });
        // A new factor (re-enrolment) starts over.
        await db.setTotp(id, { secret: `${SECRET}x`, confirmedAt: null, lastStep: -1 });
        assert.equal(await db.advanceTotpStep(id, 50), true);
      },
    },
    {
      name: "ASVS 5.0 6.5.1: parallel advanceTotpStep calls with one step: exactly one is true",
      async run() {
        const db = mfaUsers();
        const id = await create(db, "mfa-step-race@example.com");
        await db.setTotp(id, {
          secret: SECRET,
          confirmedAt: at("2026-12-06T09:00:00Z"),
          lastStep: 7,
        });
        const results = await Promise.all(
          Array.from({ length: PARALLEL }, () => db.advanceTotpStep(id, 8)),
        );
        if (atomic) exactlyOne(results, "advanceTotpStep");
        else assert.ok(results.some(Boolean));
        assert.equal((await db.getMfa(id)).totp?.lastStep, 8);
      },
    },
    {
      name: "setRecoveryCodes stores unused codes in order and replaces the whole set",
      async run() {
        const db = mfaUsers();
        const id = await create(db, "mfa-codes@example.com");
        await db.setRecoveryCodes(id, ["h1", "h2", "h3"]);
        assert.deepStrictEqual((await db.getMfa(id)).recoveryCodes, [
          { hash: "h1", usedAt: null },
          { hash: "h2", usedAt: null },
          { hash: "h3", usedAt: null },
        ]);
        await db.useRecoveryCode(id, "h2", at("2026-12-06T09:00:00Z"));
        await db.setRecoveryCodes(id, ["n1", "n2"]);
        assert.deepStrictEqual((await db.getMfa(id)).recoveryCodes, [
          { hash: "n1", usedAt: null },
          { hash: "n2", usedAt: null },
        ]);
        // The old set is gone: its codes are unknown now.
        assert.equal(await db.useRecoveryCode(id, "h1", at("2026-12-06T09:01:00Z")), false);
        await db.setRecoveryCodes(id, []);
        assert.deepStrictEqual((await db.getMfa(id)).recoveryCodes, []);
      },
    },
    {
      name: "ASVS 5.0 6.5.1: useRecoveryCode marks a code used once; unknown, used, or another user's -> false",
      async run() {
        const db = mfaUsers();
        const id = await create(db, "mfa-use@example.com");
        const eve = await create(db, "mfa-use-eve@example.com");
        await db.setRecoveryCodes(id, ["a", "b"]);
        await db.setRecoveryCodes(eve, ["e"]);
        const when = at("2026-12-06T09:02:03.004Z");
        assert.equal(await db.useRecoveryCode(eve, "a", when), false);
        assert.equal(await db.useRecoveryCode(id, "e", when), false);
        assert.equal(await db.useRecoveryCode(id, "zzz", when), false);
        assert.equal(await db.useRecoveryCode(id, "a", when), true);
        assert.equal(await db.useRecoveryCode(id, "a", at("2026-12-06T10:00:00Z")), false);
        assert.deepStrictEqual((await db.getMfa(id)).recoveryCodes, [
          { hash: "a", usedAt: when },
          { hash: "b", usedAt: null },
        ]);
        assert.deepStrictEqual((await db.getMfa(eve)).recoveryCodes, [{ hash: "e", usedAt: null }]);
      },
    },
    {
      name: "ASVS 5.0 6.5.1: parallel useRecoveryCode calls with one hash: exactly one is true",
      async run() {
        const db = mfaUsers();
        const id = await create(db, "mfa-use-race@example.com");
        await db.setRecoveryCodes(id, ["x", "y"]);
        const results = await Promise.all(
          Array.from({ length: PARALLEL }, (_, i) =>
            db.useRecoveryCode(id, "x", new Date(Date.UTC(2026, 11, 6, 9, 0, i))),
          ),
        );
        if (atomic) exactlyOne(results, "useRecoveryCode");
        else assert.ok(results.some(Boolean));
        const codes = (await db.getMfa(id)).recoveryCodes;
        assert.ok(codes[0]?.usedAt instanceof Date);
        assert.deepStrictEqual(codes[1], { hash: "y", usedAt: null });
      },
    },
    {
      name: "addPasskey stores every field; listPasskeys (oldest first) and getPasskey (with its owner) return it",
      async run() {
        const db = mfaUsers();
        const id = await create(db, "pk-add@example.com");
        const other = await create(db, "pk-add-other@example.com");
        const first = passkeyData("cred-1");
        const second = passkeyData("cred-2", {
          counter: 17,
          transports: [],
          name: "Clé « USB » 🔑",
          backedUp: false,
          createdAt: at("2026-12-02T10:00:00.001Z"),
          lastUsedAt: at("2026-12-03T11:12:13.999Z"),
        });
        await db.addPasskey(id, first);
        await db.addPasskey(other, passkeyData("cred-other"));
        await db.addPasskey(id, second);
        assert.deepStrictEqual(await db.listPasskeys(id), [first, second]);
        assert.deepStrictEqual(await db.getPasskey("cred-2"), { userId: id, credential: second });
        assert.deepStrictEqual((await db.getPasskey("cred-other"))?.userId, other);
        assert.equal(await db.getPasskey("cred-unknown"), null);
        assert.equal(await db.getPasskey('{"$ne":null}'), null);
        assert.equal(await db.getPasskey("CRED-1"), null);
      },
    },
    {
      name: "a credential id registered already, to anyone -> PasskeyAlreadyRegisteredError, nothing changes",
      async run() {
        const db = mfaUsers();
        const ada = await create(db, "pk-dup-ada@example.com");
        const eve = await create(db, "pk-dup-eve@example.com");
        const credential = passkeyData("dup");
        await db.addPasskey(ada, credential);
        await assert.rejects(
          db.addPasskey(eve, passkeyData("dup", { publicKey: "eve's key" })),
          PasskeyAlreadyRegisteredError,
        );
        await assert.rejects(db.addPasskey(ada, passkeyData("dup")), PasskeyAlreadyRegisteredError);
        assert.deepStrictEqual(await db.getPasskey("dup"), { userId: ada, credential });
        assert.deepStrictEqual(await db.listPasskeys(eve), []);
        assert.deepStrictEqual(await db.listPasskeys(ada), [credential]);
      },
    },
    {
      name: "parallel addPasskey of one credential id by two users: exactly one wins",
      async run() {
        const db = mfaUsers();
        const ada = await create(db, "pk-race-ada@example.com");
        const eve = await create(db, "pk-race-eve@example.com");
        const results = await Promise.allSettled([
          db.addPasskey(ada, passkeyData("race", { name: "ada" })),
          db.addPasskey(eve, passkeyData("race", { name: "eve" })),
        ]);
        const lost = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
        assert.equal(lost.length, 1, `${2 - lost.length} winners`);
        assert.ok(lost[0]?.reason instanceof PasskeyAlreadyRegisteredError, lost[0]?.reason);
        const winner = results[0].status === "fulfilled" ? ada : eve;
        assert.deepStrictEqual((await db.getPasskey("race"))?.userId, winner);
        assert.equal((await db.listPasskeys(ada)).length + (await db.listPasskeys(eve)).length, 1);
      },
    },
    {
      name: "updatePasskeyCounter writes counter and lastUsedAt only over the expected counter",
      async run() {
        const db = mfaUsers();
        const id = await create(db, "pk-counter@example.com");
        const credential = passkeyData("ctr", { counter: 5 });
        await db.addPasskey(id, credential);
        const when = at("2026-12-06T09:30:00.250Z");
        assert.equal(await db.updatePasskeyCounter("ctr", 4, 9, when), false);
        assert.deepStrictEqual((await db.getPasskey("ctr"))?.credential, credential);
        assert.equal(await db.updatePasskeyCounter("ctr", 5, 6, when), true);
        assert.deepStrictEqual((await db.getPasskey("ctr"))?.credential, {
          ...credential,
          counter: 6,
          lastUsedAt: when,
        });
        assert.equal(await db.updatePasskeyCounter("ctr", 5, 7, when), false);
        assert.equal(await db.updatePasskeyCounter("unknown", 0, 1, when), false);
        // Authenticators that do not count stay at 0: the login still records lastUsedAt.
        await db.addPasskey(id, passkeyData("zero"));
        assert.equal(await db.updatePasskeyCounter("zero", 0, 0, when), true);
        assert.deepStrictEqual((await db.getPasskey("zero"))?.credential.lastUsedAt, when);
      },
    },
    {
      name: "parallel updatePasskeyCounter calls with one expected counter: exactly one is true",
      async run() {
        const db = mfaUsers();
        const id = await create(db, "pk-counter-race@example.com");
        await db.addPasskey(id, passkeyData("ctr-race", { counter: 10 }));
        const results = await Promise.all(
          Array.from({ length: PARALLEL }, (_, i) =>
            db.updatePasskeyCounter("ctr-race", 10, 11 + i, at("2026-12-06T09:30:00Z")),
          ),
        );
        if (atomic) exactlyOne(results, "updatePasskeyCounter");
        else assert.ok(results.some(Boolean));
        const counter = (await db.getPasskey("ctr-race"))?.credential.counter ?? 0;
        assert.ok(counter >= 11 && counter < 11 + PARALLEL, `counter ${counter}`);
        if (atomic) assert.equal(counter, 11 + results.indexOf(true));
      },
    },
    {
      name: "ASVS 5.0 6.5.6: removePasskey removes the user's own passkey (true); another's or unknown -> false",
      async run() {
        const db = mfaUsers();
        const ada = await create(db, "pk-rm-ada@example.com");
        const eve = await create(db, "pk-rm-eve@example.com");
        const kept = passkeyData("rm-kept");
        await db.addPasskey(ada, passkeyData("rm-a"));
        await db.addPasskey(ada, kept);
        await db.addPasskey(eve, passkeyData("rm-e"));
        assert.equal(await db.removePasskey(ada, "rm-e"), false);
        assert.equal((await db.getPasskey("rm-e"))?.userId, eve);
        assert.equal(await db.removePasskey(ada, "rm-a"), true);
        assert.equal(await db.getPasskey("rm-a"), null);
        assert.deepStrictEqual(await db.listPasskeys(ada), [kept]);
        assert.equal(await db.removePasskey(ada, "rm-a"), false);
        // Removed, the credential id may be registered again.
        await db.addPasskey(eve, passkeyData("rm-a"));
        assert.equal((await db.getPasskey("rm-a"))?.userId, eve);
      },
    },
    {
      name: "an unknown user id: empty state, conditional writes false, writes store nothing",
      async run() {
        const db = mfaUsers();
        const nobody = fixture.unknownId;
        const when = at("2026-12-06T09:00:00Z");
        assert.deepStrictEqual(await db.getMfa(nobody), { totp: null, recoveryCodes: [] });
        assert.deepStrictEqual(await db.listPasskeys(nobody), []);
        assert.equal(await db.advanceTotpStep(nobody, 1), false);
        assert.equal(await db.useRecoveryCode(nobody, "h", when), false);
        assert.equal(await db.removePasskey(nobody, "none"), false);
        // A write for nobody resolves or fails as a foreign key would; either way nothing is readable.
        const tolerated = async (write: Promise<void>) => {
          try {
            await write;
          } catch (error) {
            assert.ok(error instanceof UserNotExistsError, String(error));
          }
        };
        await tolerated(db.setTotp(nobody, { secret: SECRET, confirmedAt: null, lastStep: -1 }));
        await tolerated(db.setRecoveryCodes(nobody, ["h"]));
        await tolerated(db.addPasskey(nobody, passkeyData("orphan")));
        assert.deepStrictEqual(await db.getMfa(nobody), { totp: null, recoveryCodes: [] });
        assert.equal(await db.advanceTotpStep(nobody, 2), false);
        assert.equal(await db.useRecoveryCode(nobody, "h", when), false);
        assert.equal(await db.getPasskey("orphan"), null);
      },
    },
    {
      name: "large values round-trip exactly: 4 KiB secret, 20 long hashes, 1023-byte credential id, 2^32-1 counter",
      async run() {
        const db = mfaUsers();
        const id = await create(db, "mfa-large@example.com");
        const secret = `v1.k1.${randomBytes(3066).toString("base64url")}`.slice(0, 4096);
        await db.setTotp(id, { secret, confirmedAt: null, lastStep: 2 ** 31 - 1 });
        assert.deepStrictEqual((await db.getMfa(id)).totp, {
          secret,
          confirmedAt: null,
          lastStep: 2 ** 31 - 1,
        });
        assert.equal(await db.advanceTotpStep(id, 2 ** 31), true);
        assert.equal((await db.getMfa(id)).totp?.lastStep, 2 ** 31);
        const hashes = Array.from({ length: 20 }, (_, i) => `v1.k1.${i}.${"h".repeat(120)}`);
        await db.setRecoveryCodes(id, hashes);
        assert.deepStrictEqual(
          (await db.getMfa(id)).recoveryCodes.map((c) => c.hash),
          hashes,
        );
        assert.equal(
          await db.useRecoveryCode(id, hashes[19] as string, at("2026-12-06T09:00:00Z")),
          true,
        );
        const credential = passkeyData(LONG_CREDENTIAL_ID, {
          publicKey: LONG_PUBLIC_KEY,
          counter: MAX_COUNTER - 1,
          transports: ["ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"],
          name: "n".repeat(255),
        });
        await db.addPasskey(id, credential);
        assert.deepStrictEqual(await db.getPasskey(LONG_CREDENTIAL_ID), { userId: id, credential });
        const when = at("2026-12-06T09:00:00Z");
        assert.equal(
          await db.updatePasskeyCounter(LONG_CREDENTIAL_ID, MAX_COUNTER - 1, MAX_COUNTER, when),
          true,
        );
        assert.equal((await db.getPasskey(LONG_CREDENTIAL_ID))?.credential.counter, MAX_COUNTER);
        assert.equal(await db.updatePasskeyCounter(LONG_CREDENTIAL_ID, MAX_COUNTER, 0, when), true);
      },
    },
    {
      name: "values read back are copies: changing them changes nothing stored",
      async run() {
        const db = mfaUsers();
        const id = await create(db, "mfa-copy@example.com");
        await db.setTotp(id, { secret: SECRET, confirmedAt: null, lastStep: 3 });
        await db.setRecoveryCodes(id, ["c"]);
        await db.addPasskey(id, passkeyData("copy"));
        const state = await db.getMfa(id);
        (state.totp as { lastStep: number }).lastStep = 99;
        (state.recoveryCodes[0] as { usedAt: Date | null }).usedAt = new Date();
        const listed = await db.listPasskeys(id);
        listed[0]?.transports.push("usb");
        assert.deepStrictEqual(await db.getMfa(id), {
          totp: { secret: SECRET, confirmedAt: null, lastStep: 3 },
          recoveryCodes: [{ hash: "c", usedAt: null }],
        });
        assert.deepStrictEqual((await db.getPasskey("copy"))?.credential.transports, [
          "internal",
          "hybrid",
        ]);
      },
    },
    {
      name: "deleting a user deletes their factor, recovery codes and passkeys (the credential ids free again)",
      async run() {
        const db = mfaUsers();
        const gone = await db.create(userData("mfa-gone@example.com"));
        const stays = await create(db, "mfa-stays@example.com");
        await db.setTotp(gone.id, { secret: SECRET, confirmedAt: null, lastStep: 1 });
        await db.setRecoveryCodes(gone.id, ["g"]);
        await db.addPasskey(gone.id, passkeyData("gone-1"));
        await db.addPasskey(stays, passkeyData("stays-1"));
        await db.setRecoveryCodes(stays, ["s"]);
        await db.delete(gone);
        assert.deepStrictEqual(await db.getMfa(gone.id), { totp: null, recoveryCodes: [] });
        assert.deepStrictEqual(await db.listPasskeys(gone.id), []);
        assert.equal(await db.getPasskey("gone-1"), null);
        assert.equal(await db.useRecoveryCode(gone.id, "g", new Date()), false);
        assert.equal((await db.getPasskey("stays-1"))?.userId, stays);
        assert.deepStrictEqual((await db.getMfa(stays)).recoveryCodes, [
          { hash: "s", usedAt: null },
        ]);
        await db.addPasskey(stays, passkeyData("gone-1"));
        assert.equal((await db.getPasskey("gone-1"))?.userId, stays);
      },
    },
  ];
}
