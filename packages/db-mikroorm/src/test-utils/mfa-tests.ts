// MikroOrmUserDatabase's second factors and passkeys beyond the conformance suite, on one
// driver: each once-only write is one conditional statement (on SQL, the UPDATE … WHERE
// itself), the cascade on user delete as stored, the foreign key for a user not stored, and
// no MFA methods without the option. Run by src/mfa.test.ts (SQLite) and test/db-mikroorm
// (PostgreSQL, MongoDB).
import { stripVTControlCharacters } from "node:util";
import type { EntityName } from "@mikro-orm/core";
import {
  isMfaDatabase,
  type PasskeyCredential,
  UserNotExistsError,
  type UserProtocol,
} from "@tessera/core";
import { userCreateData } from "@tessera/core/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AccessToken, MongoAccessToken } from "../entities/access-token.js";
import {
  MfaRecoveryCode,
  MfaTotp,
  MongoMfaRecoveryCode,
  MongoMfaTotp,
  MongoPasskey,
  Passkey,
} from "../entities/mfa.js";
import { MongoUser, User } from "../entities/user.js";
import type { MikroOrmMfaEntities } from "../options.js";
import type { EntityTarget } from "../types.js";
import { MikroOrmUserDatabase } from "../user-database.js";
import { type DriverKind, openTestOrm, type TestOrm } from "./orm.js";

type U = UserProtocol<unknown>;

const passkeyData = (id: string, extra: Partial<PasskeyCredential> = {}): PasskeyCredential => ({
  id,
  publicKey: `pk-${id}`,
  counter: 0,
  transports: ["internal"],
  name: `Key ${id}`,
  backedUp: false,
  createdAt: new Date("2026-12-01T10:00:00.000Z"),
  lastUsedAt: null,
  ...extra,
});

/** Registers the tests for `kind` (PostgreSQL and MongoDB servers come from the harness). */
export function describeMikroOrmMfa(kind: DriverKind): void {
  const mongo = kind === "mongodb";
  const user = mongo ? MongoUser : User;
  const token = mongo ? MongoAccessToken : AccessToken;
  const mfa: MikroOrmMfaEntities = mongo
    ? { totp: MongoMfaTotp, recoveryCode: MongoMfaRecoveryCode, passkey: MongoPasskey }
    : { totp: MfaTotp, recoveryCode: MfaRecoveryCode, passkey: Passkey };
  const entities = Object.values(mfa) as EntityName<object>[];

  describe(`MikroOrmUserDatabase: second factors and passkeys on ${kind}`, () => {
    let db: TestOrm;
    beforeAll(async () => {
      db = await openTestOrm(kind, [user, token, ...entities]);
    }, 60_000);
    afterAll(() => db?.close());
    beforeEach(async () => {
      const em = db.em();
      for (const entity of entities) await em.nativeDelete(entity, {});
      await em.nativeDelete(user as EntityName<object>, {});
    });

    const users = () =>
      new MikroOrmUserDatabase<object, U>(db.em(), user as EntityTarget<object>, { mfa });
    const count = (entity: EntityName<object>) => db.em().count(entity, {});

    it("without the mfa option the user database has none of the MFA methods", () => {
      const plain = new MikroOrmUserDatabase(db.em(), user as EntityTarget<object>);
      expect(isMfaDatabase(plain)).toBe(false);
      expect("getMfa" in plain).toBe(false);
      expect(isMfaDatabase(users())).toBe(true);
    });

    it("ASVS 5.0 6.5.1: 8 parallel advanceTotpStep / useRecoveryCode / updatePasskeyCounter calls: exactly one is true, round after round, on this server (FerretDB v1 too: the lock documents)", async () => {
      const db0 = users();
      const u = await db0.create(userCreateData("rounds@example.com"));
      await db0.setTotp(u.id, { secret: "s", confirmedAt: new Date(), lastStep: 0 });
      await db0.setRecoveryCodes(
        u.id,
        Array.from({ length: 3 }, (_, i) => `code-${i}`),
      );
      await db0.addPasskey(u.id, passkeyData("rounds"));
      const trues = (results: boolean[]) => results.filter(Boolean).length;
      for (let round = 0; round < 3; round++) {
        const many = <T>(fn: (i: number) => Promise<T>) =>
          Promise.all(Array.from({ length: 8 }, (_, i) => fn(i)));
        const [steps, codes, counters] = await Promise.all([
          many(() => users().advanceTotpStep(u.id, round + 1)),
          many(() => users().useRecoveryCode(u.id, `code-${round}`, new Date())),
          many((i) =>
            users().updatePasskeyCounter("rounds", round * 100, round * 100 + 100 + i, new Date()),
          ),
        ]);
        expect(trues(steps), `advanceTotpStep ${steps}`).toBe(1);
        expect(trues(codes), `useRecoveryCode ${codes}`).toBe(1);
        expect(trues(counters), `updatePasskeyCounter ${counters}`).toBe(1);
        const counter = (await db0.getPasskey("rounds"))?.credential.counter as number;
        expect(counter).toBe(round * 100 + 100 + counters.indexOf(true));
        expect(
          await db0.updatePasskeyCounter("rounds", counter, round * 100 + 100, new Date()),
        ).toBe(true);
      }
      expect((await db0.getMfa(u.id)).totp?.lastStep).toBe(3);
    });

    it("setRecoveryCodes replaces the set as a whole (a transaction on SQL, the user's lock on MongoDB): concurrent regenerations leave exactly one whole set", async () => {
      const db0 = users();
      const u = await db0.create(userCreateData("regen@example.com"));
      const sets = Array.from({ length: 4 }, (_, i) =>
        Array.from({ length: 10 }, (_, j) => `set${i}-${j}`),
      );
      const settled = await Promise.allSettled(sets.map((s) => users().setRecoveryCodes(u.id, s)));
      expect(settled.some((r) => r.status === "fulfilled")).toBe(true);
      const stored = (await db0.getMfa(u.id)).recoveryCodes.map((c) => c.hash);
      expect(sets).toContainEqual(stored);
    });
    // SQL only: MongoDB has neither statements nor foreign keys (its shape of both is below).
    if (!mongo) {
      it("ASVS 5.0 6.5.1: advanceTotpStep, useRecoveryCode and updatePasskeyCounter are each one UPDATE with the condition in its WHERE", async () => {
        const db0 = users();
        const u = await db0.create(userCreateData("sql@example.com"));
        await db0.setTotp(u.id, { secret: "s", confirmedAt: null, lastStep: 1 });
        await db0.setRecoveryCodes(u.id, ["h"]);
        await db0.addPasskey(u.id, passkeyData("c", { counter: 3 }));
        const only = async (fn: () => Promise<boolean>, pattern: RegExp) => {
          const { result, queries } = await db.captureQueries(fn);
          expect(result).toBe(true);
          // Without the logger's colours; statements only (not begin / commit).
          const plain = queries.map((q) => stripVTControlCharacters(q));
          const statements = plain.filter((q) => /\b(select|update|insert|delete)\b/i.test(q));
          expect(statements).toHaveLength(1);
          expect(statements[0]).toMatch(pattern);
        };
        await only(
          () => db0.advanceTotpStep(u.id, 2),
          /update .*mfa_totp.* set .*last_step.* where .*user_id.* and .*last_step.* < /i,
        );
        await only(
          () => db0.useRecoveryCode(u.id, "h", new Date()),
          /update .*mfa_recovery_codes.* set .*used_at.* where .*user_id.* and .*hash.* and .*used_at.* is null/i,
        );
        await only(
          () => db0.updatePasskeyCounter("c", 3, 4, new Date()),
          /update .*passkeys.* set .*counter.* where .*id.* and .*counter.* = /i,
        );
      });

      it("a write for a user that is not stored fails on the foreign key (UserNotExistsError) and stores nothing", async () => {
        const db0 = users();
        const gone = await db0.create(userCreateData("fk@example.com"));
        await db0.delete(gone);
        await expect(
          db0.setTotp(gone.id, { secret: "s", confirmedAt: null, lastStep: -1 }),
        ).rejects.toBeInstanceOf(UserNotExistsError);
        await expect(db0.setRecoveryCodes(gone.id, ["a", "b"])).rejects.toBeInstanceOf(
          UserNotExistsError,
        );
        await expect(db0.addPasskey(gone.id, passkeyData("fk"))).rejects.toBeInstanceOf(
          UserNotExistsError,
        );
        for (const entity of entities) expect(await count(entity)).toBe(0);
      });
    }

    it("deleting a user deletes their rows in all three tables (the foreign keys' cascade on SQL, the relations' rule on MongoDB)", async () => {
      const db0 = users();
      const gone = await db0.create(userCreateData("cascade@example.com"));
      const stays = await db0.create(userCreateData("stays@example.com"));
      for (const u of [gone, stays]) {
        await db0.setTotp(u.id, { secret: "s", confirmedAt: new Date(), lastStep: 5 });
        await db0.setRecoveryCodes(u.id, ["a", "b", "c"]);
        await db0.addPasskey(u.id, passkeyData(`k-${u.email}`));
      }
      expect(await count(mfa.totp as EntityName<object>)).toBe(2);
      await db0.delete(gone);
      expect(await count(mfa.totp as EntityName<object>)).toBe(1);
      expect(await count(mfa.recoveryCode as EntityName<object>)).toBe(3);
      expect(await count(mfa.passkey as EntityName<object>)).toBe(1);
      expect((await db0.getMfa(stays.id)).recoveryCodes).toHaveLength(3);
    });
  });
}
