import { InvalidCurrentPasswordError, MfaNotSupportedError, UserManager } from "@tessera/core";
import { type MemoryUser, MemoryUserDatabase } from "@tessera/core/testing";
import { describe, expect, it } from "vitest";
import { isMfaError, MfaErrorCode } from "./errors.js";
import { MfaKeyring } from "./keyring.js";
import { RECOVERY_CODE_BITS } from "./recovery-codes.js";
import { hotp, stepAt, totpAtStep } from "./test-utils/rfc6238.js";
import { KEY, PASSWORD, setup } from "./test-utils/setup.js";
import { TotpFactorService } from "./totp.js";

describe("the test's own RFC 6238 implementation", () => {
  // RFC 6238 Appendix B, SHA-1 rows: the seed is ASCII "12345678901234567890", 8 digits.
  const seed = Buffer.from("12345678901234567890", "ascii");
  it.each([
    [59, "94287082"],
    [1111111109, "07081804"],
    [1111111111, "14050471"],
    [1234567890, "89005924"],
    [2000000000, "69279037"],
    [20000000000, "65353130"],
  ])("matches the RFC's test vector at T = %i s", (seconds, expected) => {
    expect(hotp(seed, stepAt(seconds * 1000), 8)).toBe(expected);
  });
});

async function enrolled(options: Parameters<typeof setup>[0] = {}) {
  const s = await setup(options);
  const enrolment = await s.factors.enrol(s.user);
  const step = stepAt(s.clock.now);
  const { recoveryCodes } = await s.factors.confirm(s.user, totpAtStep(enrolment.secret, step));
  // Move on two steps, so the previous step's code is not the confirming one (used up).
  s.clock.now += 60_000;
  const code = (delta = 0) => totpAtStep(enrolment.secret, stepAt(s.clock.now) + delta);
  return { ...s, enrolment, recoveryCodes, code };
}

describe("TotpFactorService.enrol", () => {
  it("returns a base32 secret of 160 bits and an otpauth:// URI with issuer and email (ASVS 5.0 6.5.3)", async () => {
    const { factors, user } = await setup();
    const enrolment = await factors.enrol(user);
    expect(enrolment.secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(enrolment.uri);
    expect(uri.protocol).toBe("otpauth:");
    expect(uri.host).toBe("totp");
    expect(decodeURIComponent(uri.pathname)).toBe("/Tessera Test:ada@example.com");
    expect(Object.fromEntries(uri.searchParams)).toEqual({
      issuer: "Tessera Test",
      secret: enrolment.secret,
      algorithm: "SHA1",
      digits: "6",
      period: "30",
    });
    // A new secret each time, from the CSPRNG.
    expect((await factors.enrol(user)).secret).not.toBe(enrolment.secret);
  });

  it("ASVS 5.0 6.5.2-style storage: the secret is stored encrypted, never in clear, and pending", async () => {
    const { factors, user, userDb } = await setup();
    const { secret } = await factors.enrol(user);
    const raw = userDb.mfa.get(user.id);
    expect(raw?.totp?.confirmedAt).toBeNull();
    expect(raw?.totp?.secret).toMatch(/^v1\.k1\.[A-Za-z0-9_-]+$/);
    const dump = JSON.stringify([...userDb.mfa.values()]);
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(secret.toLowerCase());
    expect(dump).not.toContain(Buffer.from(secret).toString("base64url"));
    expect(await factors.status(user)).toEqual({
      enabled: false,
      pending: true,
      recoveryCodesLeft: 0,
    });
    expect(await factors.isEnabled(user)).toBe(false);
  });

  it("a pending enrolment is no factor: verify refuses its codes", async () => {
    const { factors, user, clock } = await setup();
    const { secret } = await factors.enrol(user);
    expect(await factors.verify(user, totpAtStep(secret, stepAt(clock.now)))).toBe(false);
  });

  it("refuses to enrol again while a confirmed factor exists", async () => {
    const { factors, user } = await enrolled();
    await expect(factors.enrol(user)).rejects.toSatisfy((e) =>
      isMfaError(e, MfaErrorCode.MFA_ALREADY_ENABLED),
    );
  });

  it("a secret copied to another user's row does not open (bound to the user id)", async () => {
    const s = await setup();
    await s.factors.enrol(s.user);
    const eve = await s.userManager.create({ email: "eve@example.com", password: PASSWORD });
    const stolen = s.userDb.mfa.get(s.user.id)?.totp;
    await s.userDb.setTotp(eve.id, {
      secret: stolen?.secret ?? "",
      confirmedAt: new Date(),
      lastStep: -1,
    });
    await expect(s.factors.verify(eve, "123456")).rejects.toThrow(TypeError);
  });
});

describe("TotpFactorService.confirm", () => {
  it("turns the factor on, returns 10 recovery codes of 120 bits stored only hashed, and emits mfa_enabled", async () => {
    const { factors, user, recoveryCodes, userDb, events } = await enrolled();
    expect(await factors.status(user)).toEqual({
      enabled: true,
      pending: false,
      recoveryCodesLeft: 10,
    });
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect(RECOVERY_CODE_BITS).toBeGreaterThanOrEqual(112);
    for (const code of recoveryCodes) expect(code).toMatch(/^[a-z2-7]{6}(-[a-z2-7]{6}){3}$/);
    const stored = userDb.mfa.get(user.id)?.recoveryCodes ?? [];
    const dump = JSON.stringify(stored);
    for (const code of recoveryCodes) {
      expect(dump).not.toContain(code);
      expect(dump).not.toContain(code.replaceAll("-", ""));
    }
    for (const { hash } of stored) expect(hash).toMatch(/^v1\.k1\.[A-Za-z0-9_-]{43}$/);
    expect(events.map((e) => e.event)).toEqual([{ type: "mfa_enabled", factor: "totp" }]);
  });

  it("refuses a wrong code and keeps the enrolment pending", async () => {
    const { factors, user, clock } = await setup();
    const { secret } = await factors.enrol(user);
    const good = totpAtStep(secret, stepAt(clock.now));
    const wrong = good === "000000" ? "000001" : "000000";
    await expect(factors.confirm(user, wrong)).rejects.toSatisfy((e) =>
      isMfaError(e, MfaErrorCode.MFA_CODE_INVALID),
    );
    expect((await factors.status(user)).pending).toBe(true);
  });

  it("without an enrolment -> MFA_NOT_ENROLLING", async () => {
    const { factors, user } = await setup();
    await expect(factors.confirm(user, "123456")).rejects.toSatisfy((e) =>
      isMfaError(e, MfaErrorCode.MFA_NOT_ENROLLING),
    );
  });

  it("ASVS 5.0 6.5.1: the confirming code cannot be used again to log in", async () => {
    const s = await setup();
    const { secret } = await s.factors.enrol(s.user);
    const code = totpAtStep(secret, stepAt(s.clock.now));
    await s.factors.confirm(s.user, code);
    expect(await s.factors.verify(s.user, code)).toBe(false);
  });
});

describe("TotpFactorService.verify", () => {
  it("ASVS 5.0 6.5.5: accepts the current step's code, the previous and the next (±1 step of skew)", async () => {
    for (const delta of [0, -1, 1]) {
      const { factors, user, code } = await enrolled();
      expect(await factors.verify(user, code(delta)), `delta ${delta}`).toBe(true);
    }
  });

  it("ASVS 5.0 6.5.5: refuses codes two steps away either side", async () => {
    const { factors, user, code } = await enrolled();
    expect(await factors.verify(user, code(-2))).toBe(false);
    expect(await factors.verify(user, code(2))).toBe(false);
    expect(await factors.verify(user, code(-10))).toBe(false);
    expect(await factors.verify(user, code(0))).toBe(true);
  });

  it("ASVS 5.0 6.5.1: the same code twice -> the second is refused", async () => {
    const { factors, user, code } = await enrolled();
    const current = code(0);
    expect(await factors.verify(user, current)).toBe(true);
    expect(await factors.verify(user, current)).toBe(false);
  });

  it("ASVS 5.0 6.5.1: an earlier step's code after a later one is refused", async () => {
    const { factors, user, code } = await enrolled();
    expect(await factors.verify(user, code(1))).toBe(true);
    expect(await factors.verify(user, code(0))).toBe(false);
    expect(await factors.verify(user, code(-1))).toBe(false);
  });

  it("ASVS 5.0 6.5.1: the same code sent in parallel is accepted exactly once", async () => {
    const { factors, user, code } = await enrolled();
    const current = code(0);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => factors.verify(user, current)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it("a later step works after an earlier one, as time passes", async () => {
    const { factors, user, code, clock } = await enrolled();
    expect(await factors.verify(user, code(0))).toBe(true);
    clock.now += 30_000;
    expect(await factors.verify(user, code(0))).toBe(true);
  });

  it("refuses malformed codes without looking further", async () => {
    const { factors, user, code } = await enrolled();
    for (const bad of ["", "12345", "1234567", "abcdef", "12 34 5", `${code(0)}0`, null, 123456]) {
      expect(await factors.verify(user, bad as string)).toBe(false);
    }
    // Spaces inside a code (as apps show it) are ignored.
    const current = code(0);
    expect(await factors.verify(user, `${current.slice(0, 3)} ${current.slice(3)}`)).toBe(true);
  });

  it("without a factor -> false", async () => {
    const { factors, user } = await setup();
    expect(await factors.verify(user, "123456")).toBe(false);
  });
});

describe("recovery codes", () => {
  it("ASVS 5.0 6.5.1: each code works once (any case, dashes optional) and emits recovery_code_used", async () => {
    const { factors, user, recoveryCodes, events } = await enrolled();
    const [first, second] = recoveryCodes as [string, string];
    expect(await factors.useRecoveryCode(user, first)).toBe(true);
    expect(await factors.useRecoveryCode(user, first)).toBe(false);
    expect(await factors.useRecoveryCode(user, second.toUpperCase().replaceAll("-", " "))).toBe(
      true,
    );
    expect(await factors.useRecoveryCode(user, "aaaaaa-aaaaaa-aaaaaa-aaaaaa")).toBe(false);
    expect(await factors.useRecoveryCode(user, "short")).toBe(false);
    expect(events.slice(1).map((e) => e.event)).toEqual([
      { type: "recovery_code_used", remaining: 9 },
      { type: "recovery_code_used", remaining: 8 },
    ]);
    expect((await factors.status(user)).recoveryCodesLeft).toBe(8);
  });

  it("ASVS 5.0 6.5.1: one code sent in parallel is accepted exactly once", async () => {
    const { factors, user, recoveryCodes } = await enrolled();
    const code = recoveryCodes[0] as string;
    const results = await Promise.all(
      Array.from({ length: 10 }, () => factors.useRecoveryCode(user, code)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it("regeneration needs a current code, invalidates the old set, and emits recovery_codes_regenerated", async () => {
    const { factors, user, recoveryCodes, code, events } = await enrolled();
    await expect(factors.regenerateRecoveryCodes(user, code(-2))).rejects.toSatisfy((e) =>
      isMfaError(e, MfaErrorCode.MFA_CODE_INVALID),
    );
    const fresh = await factors.regenerateRecoveryCodes(user, code(0));
    expect(fresh).toHaveLength(10);
    expect(fresh.filter((c) => recoveryCodes.includes(c))).toEqual([]);
    for (const old of recoveryCodes) expect(await factors.useRecoveryCode(user, old)).toBe(false);
    expect(await factors.useRecoveryCode(user, fresh[3] as string)).toBe(true);
    expect(events.map((e) => e.event.type)).toEqual([
      "mfa_enabled",
      "recovery_codes_regenerated",
      "recovery_code_used",
    ]);
  });

  it("a code of another user does not work", async () => {
    const s = await enrolled();
    const eve = await s.userManager.create({ email: "eve@example.com", password: PASSWORD });
    const { secret } = await s.factors.enrol(eve);
    await s.factors.confirm(eve, totpAtStep(secret, stepAt(s.clock.now)));
    expect(await s.factors.useRecoveryCode(eve, s.recoveryCodes[0] as string)).toBe(false);
  });

  it("key rotation: codes hashed under an old key still work once the new key is first", async () => {
    const s = await enrolled();
    const rotated = new TotpFactorService({
      userManager: s.userManager,
      keyring: new MfaKeyring([
        { id: "k2", secret: "a-newer-mfa-key-0123456789-abcdefghijklm" },
        KEY,
      ]),
      issuer: "Tessera Test",
      now: () => s.clock.now,
    });
    expect(await rotated.useRecoveryCode(s.user, s.recoveryCodes[0] as string)).toBe(true);
    expect(await rotated.useRecoveryCode(s.user, s.recoveryCodes[0] as string)).toBe(false);
    // The secret under k1 still opens, and new ones are under k2.
    expect(await rotated.verify(s.user, s.code(0))).toBe(true);
    const eve = await s.userManager.create({ email: "eve@example.com", password: PASSWORD });
    await rotated.enrol(eve);
    expect(s.userDb.mfa.get(eve.id)?.totp?.secret).toMatch(/^v1\.k2\./);
  });
});

describe("TotpFactorService.disable (ASVS 5.0 6.5.6)", () => {
  it("with a current code: removes the factor and the recovery codes, emits mfa_disabled", async () => {
    const { factors, user, code, userDb, events } = await enrolled();
    await factors.disable(user, { code: code(0) }, { ctx: 1 });
    expect(userDb.mfa.get(user.id)).toEqual({ totp: null, recoveryCodes: [] });
    expect(events.at(-1)).toEqual({
      user,
      event: { type: "mfa_disabled", factor: "totp", by: "code" },
      context: { ctx: 1 },
    });
  });

  it("with the password", async () => {
    const { factors, user, events } = await enrolled();
    await factors.disable(user, { password: PASSWORD });
    expect(await factors.isEnabled(user)).toBe(false);
    expect(events.at(-1)?.event).toEqual({ type: "mfa_disabled", factor: "totp", by: "password" });
  });

  it("refuses a wrong password, a wrong or replayed code, and keeps the factor", async () => {
    const { factors, user, code } = await enrolled();
    await expect(factors.disable(user, { password: "wrong password 123" })).rejects.toBeInstanceOf(
      InvalidCurrentPasswordError,
    );
    const current = code(0);
    await factors.verify(user, current);
    await expect(factors.disable(user, { code: current })).rejects.toSatisfy((e) =>
      isMfaError(e, MfaErrorCode.MFA_CODE_INVALID),
    );
    expect(await factors.isEnabled(user)).toBe(true);
  });

  it("without a factor -> MFA_NOT_ENABLED", async () => {
    const { factors, user } = await setup();
    await expect(factors.disable(user, { password: PASSWORD })).rejects.toSatisfy((e) =>
      isMfaError(e, MfaErrorCode.MFA_NOT_ENABLED),
    );
  });
});

describe("TotpFactorService configuration", () => {
  it("throws MfaNotSupportedError on a user database without MfaDatabase", () => {
    const memory = new MemoryUserDatabase();
    const userManager = new UserManager<MemoryUser, string>({
      userDb: {
        get: (id) => memory.get(id),
        getByEmail: (email) => memory.getByEmail(email),
        create: (data) => memory.create(data),
        update: (user, data, conditions) => memory.update(user, data, conditions),
        delete: (user) => memory.delete(user),
      },
      verificationTokenSecret: "verify-secret-0123456789-abcdefghijklmnop",
      resetPasswordTokenSecret: "reset-secret-0123456789-abcdefghijklmnopq",
    });
    expect(
      () => new TotpFactorService({ userManager, keyring: new MfaKeyring([KEY]), issuer: "x" }),
    ).toThrow(MfaNotSupportedError);
  });

  it("gives the HTTP layer a per-account rate-limit key (ASVS 5.0 6.3.1)", async () => {
    const { factors, user } = await setup();
    expect(factors.rateLimitKey(user)).toBe(`mfa:${user.id}`);
  });
});
