// db-mongo's second factors and passkeys beyond the shared suite (objectid/uuid.conformance
// run its MFA cases, relaxed on FerretDB v1 for the races): the stored shape, "exactly one
// of N parallel calls" for every once-only write on the harness's server itself (FerretDB v1
// in CI, whose filtered updates are a read then a write: the lock documents make it hold),
// a crashed writer's lock taken over, no lock left behind, the cascade, the configuration.
import {
  ConfigurationError,
  isMfaDatabase,
  type PasskeyCredential,
  UserNotExistsError,
} from "@tessera/core";
import { userCreateData } from "@tessera/core/testing";
import { type MongoIdType, MongoUserDatabase } from "@tessera/db-mongo";
import { describe, expect, it } from "vitest";
import { monitoredMongo } from "./monitored.js";

const { serverKind, adapters, sentDuring } = monitoredMongo("mongo_mfa");

const passkey = (id: string, extra: Partial<PasskeyCredential> = {}): PasskeyCredential => ({
  id,
  publicKey: `pk-${id}`,
  counter: 0,
  transports: ["internal", "hybrid"],
  name: `Key ${id}`,
  backedUp: true,
  createdAt: new Date("2026-12-01T10:00:00.123Z"),
  lastUsedAt: null,
  ...extra,
});

const PARALLEL = 8;
const ROUNDS = 5;
const trues = (results: boolean[]) => results.filter(Boolean).length;

describe.each<MongoIdType>(["objectId", "uuid"])(
  `db-mongo second factors and passkeys (%s ids, ${serverKind})`,
  (idType) => {
    it("factors are one document per user (_id = the user's), passkeys one per credential (_id = the credential id), snake_case", async () => {
      const { userCollection, mfaCollection, passkeyCollection, users } = await adapters(idType);
      const user = await users.create(userCreateData("shape@example.com"));
      const stored = (await userCollection.findOne({}))?._id;
      const confirmedAt = new Date("2026-12-06T09:00:00.456Z");
      await users.setTotp(user.id, { secret: "v1.k1.s", confirmedAt, lastStep: 42 });
      await users.setRecoveryCodes(user.id, ["h1", "h2"]);
      await users.addPasskey(user.id, passkey("cred-1"));
      expect(await mfaCollection.find({}).toArray()).toEqual([
        {
          _id: stored,
          totp: { secret: "v1.k1.s", confirmed_at: confirmedAt, last_step: 42 },
          recovery_codes: [
            { hash: "h1", used_at: null },
            { hash: "h2", used_at: null },
          ],
        },
      ]);
      expect(await passkeyCollection.find({}).toArray()).toEqual([
        {
          _id: "cred-1",
          user_id: stored,
          public_key: "pk-cred-1",
          counter: 0,
          transports: ["internal", "hybrid"],
          name: "Key cred-1",
          backed_up: true,
          created_at: new Date("2026-12-01T10:00:00.123Z"),
          last_used_at: null,
        },
      ]);
      // The user document itself carries none of it.
      expect(Object.keys((await userCollection.findOne({})) ?? {})).not.toContain("totp");
      expect(await users.get(user.id)).not.toHaveProperty("totp");
    });

    it("ASVS 5.0 6.5.1: N parallel advanceTotpStep / useRecoveryCode / updatePasskeyCounter calls: exactly one is true, round after round, on this server", async () => {
      const { users } = await adapters(idType);
      const user = await users.create(userCreateData("race@example.com"));
      await users.setTotp(user.id, { secret: "s", confirmedAt: new Date(), lastStep: 0 });
      await users.setRecoveryCodes(
        user.id,
        Array.from({ length: ROUNDS }, (_, i) => `code-${i}`),
      );
      await users.addPasskey(user.id, passkey("race"));
      for (let round = 0; round < ROUNDS; round++) {
        const step = round + 1;
        const [steps, codes, counters] = await Promise.all([
          Promise.all(Array.from({ length: PARALLEL }, () => users.advanceTotpStep(user.id, step))),
          Promise.all(
            Array.from({ length: PARALLEL }, () =>
              users.useRecoveryCode(user.id, `code-${round}`, new Date()),
            ),
          ),
          Promise.all(
            Array.from({ length: PARALLEL }, (_, i) =>
              users.updatePasskeyCounter("race", round * 100, (round + 1) * 100 + i, new Date()),
            ),
          ),
        ]);
        expect(trues(steps), `round ${round}: advanceTotpStep ${steps}`).toBe(1);
        expect(trues(codes), `round ${round}: useRecoveryCode ${codes}`).toBe(1);
        expect(trues(counters), `round ${round}: updatePasskeyCounter ${counters}`).toBe(1);
        const counter = (await users.getPasskey("race"))?.credential.counter;
        expect(counter).toBe((round + 1) * 100 + counters.indexOf(true));
        // Move the counter to the next round's expected value.
        expect(
          await users.updatePasskeyCounter(
            "race",
            counter as number,
            (round + 1) * 100,
            new Date(),
          ),
        ).toBe(true);
      }
      const state = await users.getMfa(user.id);
      expect(state.totp?.lastStep).toBe(ROUNDS);
      expect(state.recoveryCodes.every((c) => c.usedAt instanceof Date)).toBe(true);
    });

    it("ASVS 5.0 6.5.1: a recovery code used while others are used and the set is read: no use is lost (one writer at a time per document)", async () => {
      const { users } = await adapters(idType);
      const user = await users.create(userCreateData("many@example.com"));
      const hashes = Array.from({ length: 10 }, (_, i) => `c${i}`);
      await users.setRecoveryCodes(user.id, hashes);
      const used = await Promise.all(
        hashes.map((h) => users.useRecoveryCode(user.id, h, new Date())),
      );
      expect(used).toEqual(hashes.map(() => true));
      expect((await users.getMfa(user.id)).recoveryCodes.every((c) => c.usedAt !== null)).toBe(
        true,
      );
    });

    it("a crashed writer's lock is taken over once stale; a live one leaves no lock document behind", async () => {
      const { mfaCollection, users } = await adapters(idType);
      const user = await users.create(userCreateData("lock@example.com"));
      await users.setTotp(user.id, { secret: "s", confirmedAt: null, lastStep: 1 });
      expect(await mfaCollection.countDocuments({ _id: /^lock:/ as never })).toBe(0);
      // As a process that died between taking the lock and releasing it leaves it.
      const locks = mfaCollection as unknown as import("mongodb").Collection<{
        _id: string;
        locked_at: Date;
      }>;
      await locks.insertOne({ _id: `lock:mfa:${user.id}`, locked_at: new Date(0) });
      expect(await users.advanceTotpStep(user.id, 2)).toBe(true);
      expect(await mfaCollection.countDocuments({ _id: /^lock:/ as never })).toBe(0);
    });

    it("deleting a user deletes their MFA document and passkeys, nobody else's", async () => {
      const { mfaCollection, passkeyCollection, users } = await adapters(idType);
      const gone = await users.create(userCreateData("gone@example.com"));
      const stays = await users.create(userCreateData("stays@example.com"));
      for (const u of [gone, stays]) {
        await users.setTotp(u.id, { secret: "s", confirmedAt: null, lastStep: -1 });
        await users.setRecoveryCodes(u.id, ["a"]);
        await users.addPasskey(u.id, passkey(`k-${u.email}`));
        await users.addPasskey(u.id, passkey(`k2-${u.email}`));
      }
      await users.delete(gone);
      expect(await mfaCollection.countDocuments({})).toBe(1);
      expect(await passkeyCollection.countDocuments({})).toBe(2);
      expect((await users.listPasskeys(stays.id)).map((p) => p.id)).toEqual([
        "k-stays@example.com",
        "k2-stays@example.com",
      ]);
    });

    it("a write for a user that is not stored stores nothing (no foreign keys: the user is read first)", async () => {
      const { mfaCollection, passkeyCollection, users } = await adapters(idType);
      const gone = await users.create(userCreateData("nobody@example.com"));
      await users.delete(gone);
      await users.setTotp(gone.id, { secret: "s", confirmedAt: null, lastStep: -1 });
      await users.setRecoveryCodes(gone.id, ["a"]);
      await expect(users.addPasskey(gone.id, passkey("orphan"))).rejects.toBeInstanceOf(
        UserNotExistsError,
      );
      expect(await mfaCollection.countDocuments({})).toBe(0);
      expect(await passkeyCollection.countDocuments({})).toBe(0);
    });

    it("getMfa is one find on the MFA collection; getPasskey one find by _id", async () => {
      const { users } = await adapters(idType);
      const user = await users.create(userCreateData("trips@example.com"));
      await users.addPasskey(user.id, passkey("trip"));
      expect((await sentDuring(() => users.getMfa(user.id))).map((e) => e.commandName)).toEqual([
        "find",
      ]);
      const events = await sentDuring(() => users.getPasskey("trip"));
      expect(events.map((e) => e.commandName)).toEqual(["find"]);
      expect(events[0]?.command.filter).toEqual({ _id: "trip" });
    });
  },
);

describe("db-mongo MFA configuration", () => {
  it("without both MFA collections the user database has none of the MFA methods; with one only, a ConfigurationError", async () => {
    const { userCollection, mfaCollection } = await adapters("objectId");
    const plain = new MongoUserDatabase(userCollection);
    expect(isMfaDatabase(plain)).toBe(false);
    expect(() => new MongoUserDatabase(userCollection, { mfaCollection })).toThrow(
      ConfigurationError,
    );
  });
});
