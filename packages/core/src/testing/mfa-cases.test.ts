import { AssertionError } from "node:assert";
import { describe, expect, it } from "vitest";
import { isMfaDatabase } from "../mfa/models.js";
import type { UserDatabase, UserProtocol } from "../models.js";
import type { AdapterFixture } from "./adapter-conformance.js";
import { type MemoryUser, MemoryUserDatabase } from "./memory.js";
import { mfaCases } from "./mfa-cases.js";

// The MFA cases themselves: an adapter that keeps no second factors fails unless it says
// `mfa: false`, and one that claims support but breaks a rule fails too.

/** A user database with only the UserDatabase verbs (no MFA). */
function plainUsers(memory: MemoryUserDatabase): UserDatabase<MemoryUser, string> {
  return {
    get: (id) => memory.get(id),
    getByEmail: (email) => memory.getByEmail(email),
    create: (data) => memory.create(data),
    update: (user, data, conditions) => memory.update(user, data, conditions),
    delete: (user) => memory.delete(user),
  };
}

/** Memory's MFA with every once-only write a read, a pause, then a write: not conditional. */
class ReadThenWrite extends MemoryUserDatabase {
  override async advanceTotpStep(userId: string, step: number) {
    const totp = (await this.getMfa(userId)).totp;
    await new Promise((resolve) => setImmediate(resolve));
    if (!totp || totp.lastStep >= step) return false;
    await this.setTotp(userId, { ...totp, lastStep: step });
    return true;
  }
  override async useRecoveryCode(userId: string, hash: string, at: Date) {
    const code = (await this.getMfa(userId)).recoveryCodes.find((c) => c.hash === hash);
    await new Promise((resolve) => setImmediate(resolve));
    if (!code || code.usedAt) return false;
    const stored = this.mfa.get(userId)?.recoveryCodes.find((c) => c.hash === hash);
    if (stored) stored.usedAt = at;
    return true;
  }
  override async updatePasskeyCounter(id: string, expected: number, counter: number, at: Date) {
    const found = await this.getPasskey(id);
    await new Promise((resolve) => setImmediate(resolve));
    if (!found || found.credential.counter !== expected) return false;
    const entry = this.passkeys.get(id);
    if (entry) entry.credential = { ...entry.credential, counter, lastUsedAt: at };
    return true;
  }
}

function fixture(
  users: UserDatabase<UserProtocol<string>, string>,
  mfa?: boolean,
): AdapterFixture<string> {
  return {
    name: "under test",
    setup: async () => {},
    reset: async () => {},
    teardown: async () => {},
    users: () => users,
    tokens: () => {
      throw new Error("not used");
    },
    unknownId: "00000000-0000-4000-8000-000000000000",
    malformedIds: [],
    storedTokenValues: async () => [],
    ...(mfa === undefined ? {} : { mfa }),
  };
}

describe("mfaCases", () => {
  it("fail, never skip, on a user database without MFA that does not say mfa: false", async () => {
    const cases = mfaCases(fixture(plainUsers(new MemoryUserDatabase())));
    expect(cases.length).toBeGreaterThan(10);
    for (const c of cases) await expect(c.run()).rejects.toThrow(/mfa: false/);
  });

  it("with mfa: false, are one case that passes when the database keeps no second factors", async () => {
    const cases = mfaCases(fixture(plainUsers(new MemoryUserDatabase()), false));
    expect(cases).toHaveLength(1);
    await cases[0]?.run();
  });

  it("with mfa: false on a database that does keep second factors, fail", async () => {
    const [only] = mfaCases(fixture(new MemoryUserDatabase(), false));
    await expect(only?.run()).rejects.toBeInstanceOf(AssertionError);
  });

  it("fail an adapter whose once-only writes are a read then a write (each race case)", async () => {
    const cases = mfaCases(fixture(new ReadThenWrite()));
    const races = cases.filter((c) => /parallel .*(step|hash|counter)/i.test(c.name));
    expect(races).toHaveLength(3);
    for (const c of races) await expect(c.run()).rejects.toBeInstanceOf(AssertionError);
  });

  it("isMfaDatabase: true for the memory adapter, false without every method", () => {
    expect(isMfaDatabase(new MemoryUserDatabase())).toBe(true);
    expect(isMfaDatabase(plainUsers(new MemoryUserDatabase()))).toBe(false);
    const { removePasskey: _, ...almost } = Object.fromEntries(
      Object.getOwnPropertyNames(MemoryUserDatabase.prototype).map((name) => [name, () => {}]),
    );
    expect(isMfaDatabase(almost)).toBe(false);
  });
});
