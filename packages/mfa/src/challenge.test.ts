import { describe, expect, it } from "vitest";
import { MfaChallenges } from "./challenge.js";
import { MemoryMfaChallengeStore } from "./challenge-store.js";
import { isMfaError, MfaCodeInvalidError, MfaErrorCode, type MfaErrorCodeValue } from "./errors.js";
import { MfaKeyring } from "./keyring.js";
import { stepAt, totpAtStep } from "./test-utils/rfc6238.js";
import { PASSWORD, setup } from "./test-utils/setup.js";

async function login() {
  const s = await setup();
  const { secret } = await s.factors.enrol(s.user);
  const { recoveryCodes } = await s.factors.confirm(
    s.user,
    totpAtStep(secret, stepAt(s.clock.now)),
  );
  s.clock.now += 60_000;
  const store = new MemoryMfaChallengeStore({ now: () => s.clock.now });
  const challenges = new MfaChallenges({
    userManager: s.userManager,
    factors: s.factors,
    keyring: s.keyring,
    store,
    now: () => s.clock.now,
  });
  const code = (delta = 0) => totpAtStep(secret, stepAt(s.clock.now) + delta);
  const wrong = () => (code(0) === "000000" ? "000001" : "000000");
  return { ...s, secret, recoveryCodes, store, challenges, code, wrong };
}

const failsWith = (code: MfaErrorCodeValue) => (error: unknown) => isMfaError(error, code);

describe("MfaChallenges", () => {
  it("issue: an opaque token (no user id or backend in clear) of at least 128 bits, expiring in 5 minutes", async () => {
    const { challenges, user, clock } = await login();
    const { token, expiresAt } = challenges.issue(user, "jwt");
    expect(token).toMatch(/^v1\.k1\.[A-Za-z0-9_-]+$/);
    expect(token).not.toContain(user.id);
    expect(
      Buffer.from(token.split(".")[2] as string, "base64url").toString("latin1"),
    ).not.toContain("jwt");
    // IV (12) + tag (16) + a payload holding 16 random bytes, base64url.
    expect(Buffer.from(token.split(".")[2] as string, "base64url").length).toBeGreaterThan(28 + 22);
    expect(expiresAt.getTime()).toBe(clock.now + 300_000);
    expect(challenges.issue(user, "jwt").token).not.toBe(token);
  });

  it("complete with a TOTP code: the user, once (ASVS 5.0 6.5.1)", async () => {
    const { challenges, user, code } = await login();
    const { token } = challenges.issue(user, "jwt");
    expect((await challenges.complete(token, { code: code(0) }, { backend: "jwt" })).id).toBe(
      user.id,
    );
    // Used: even with another valid code.
    await expect(
      challenges.complete(token, { code: code(1) }, { backend: "jwt" }),
    ).rejects.toSatisfy(failsWith(MfaErrorCode.MFA_TOKEN_USED));
  });

  it("complete with a recovery code: the user; the code is used up", async () => {
    const { challenges, user, recoveryCodes, events } = await login();
    const first = challenges.issue(user, "cookie").token;
    const ctx = { request: 1 };
    const done = await challenges.complete(
      first,
      { recoveryCode: recoveryCodes[0] as string },
      { backend: "cookie", context: ctx },
    );
    expect(done.id).toBe(user.id);
    expect(events.at(-1)).toEqual({
      user,
      event: { type: "recovery_code_used", remaining: 9 },
      context: ctx,
    });
    const second = challenges.issue(user, "cookie").token;
    await expect(
      challenges.complete(
        second,
        { recoveryCode: recoveryCodes[0] as string },
        { backend: "cookie" },
      ),
    ).rejects.toBeInstanceOf(MfaCodeInvalidError);
  });

  it("ASVS 5.0 6.5.1: a code used for one challenge is refused for another (replay)", async () => {
    const { challenges, user, code } = await login();
    const current = code(0);
    await challenges.complete(
      challenges.issue(user, "jwt").token,
      { code: current },
      { backend: "jwt" },
    );
    await expect(
      challenges.complete(
        challenges.issue(user, "jwt").token,
        { code: current },
        { backend: "jwt" },
      ),
    ).rejects.toBeInstanceOf(MfaCodeInvalidError);
  });

  it("ASVS 5.0 6.6.2: bound to its backend: another backend's route refuses it", async () => {
    const { challenges, user, code } = await login();
    const { token } = challenges.issue(user, "jwt");
    await expect(
      challenges.complete(token, { code: code(0) }, { backend: "cookie" }),
    ).rejects.toSatisfy(failsWith(MfaErrorCode.MFA_TOKEN_INVALID));
    // Refused before the code was checked: it still works where it belongs.
    expect((await challenges.complete(token, { code: code(0) }, { backend: "jwt" })).id).toBe(
      user.id,
    );
  });

  it("ASVS 5.0 6.5.5: expires after 5 minutes", async () => {
    const { challenges, user, code, clock } = await login();
    const { token } = challenges.issue(user, "jwt");
    clock.now += 300_000;
    await expect(
      challenges.complete(token, { code: code(0) }, { backend: "jwt" }),
    ).rejects.toSatisfy(failsWith(MfaErrorCode.MFA_TOKEN_EXPIRED));
  });

  it("still valid just before it expires", async () => {
    const { challenges, user, code, clock } = await login();
    const { token } = challenges.issue(user, "jwt");
    clock.now += 299_000;
    expect((await challenges.complete(token, { code: code(0) }, { backend: "jwt" })).id).toBe(
      user.id,
    );
  });

  it("ASVS 5.0 6.3.1: a wrong code does not use it up but counts; the 5th wrong code kills it", async () => {
    const { challenges, user, code, wrong } = await login();
    const { token } = challenges.issue(user, "jwt");
    for (let left = 4; left >= 1; left--) {
      const error = await challenges
        .complete(token, { code: wrong() }, { backend: "jwt" })
        .catch((e) => e);
      expect(error).toBeInstanceOf(MfaCodeInvalidError);
      expect(error.attemptsLeft).toBe(left);
    }
    const fifth = await challenges
      .complete(token, { code: wrong() }, { backend: "jwt" })
      .catch((e) => e);
    expect(fifth.attemptsLeft).toBe(0);
    await expect(
      challenges.complete(token, { code: code(0) }, { backend: "jwt" }),
    ).rejects.toSatisfy(failsWith(MfaErrorCode.MFA_TOKEN_USED));
  });

  it("after 4 wrong codes the right one still completes it", async () => {
    const { challenges, user, code, wrong } = await login();
    const { token } = challenges.issue(user, "jwt");
    for (let i = 0; i < 4; i++) {
      await expect(
        challenges.complete(token, { code: wrong() }, { backend: "jwt" }),
      ).rejects.toBeInstanceOf(MfaCodeInvalidError);
    }
    expect((await challenges.complete(token, { code: code(0) }, { backend: "jwt" })).id).toBe(
      user.id,
    );
  });

  it("wrong recovery codes count too", async () => {
    const { challenges, user } = await login();
    const { token } = challenges.issue(user, "jwt");
    const error = await challenges
      .complete(token, { recoveryCode: "aaaaaa-aaaaaa-aaaaaa-aaaaaa" }, { backend: "jwt" })
      .catch((e) => e);
    expect(error.attemptsLeft).toBe(4);
  });

  it("ASVS 5.0 6.5.1: one token completed in parallel with one code: exactly one user", async () => {
    const { challenges, user, code } = await login();
    const { token } = challenges.issue(user, "jwt");
    const current = code(0);
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () =>
        challenges.complete(token, { code: current }, { backend: "jwt" }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  });

  it("refuses malformed, forged, truncated, and other-key tokens as MFA_TOKEN_INVALID", async () => {
    const { challenges, user, code, keyring } = await login();
    const { token } = challenges.issue(user, "jwt");
    const [v, kid, body] = token.split(".") as [string, string, string];
    const flipped = Buffer.from(body, "base64url");
    flipped[20] = (flipped[20] as number) ^ 1;
    const otherKeyring = new MfaKeyring([
      { id: "k1", secret: "another-mfa-key-0123456789-abcdefghijklm" },
    ]);
    const cases: unknown[] = [
      "",
      "garbage",
      `${v}.${kid}.${flipped.toString("base64url")}`,
      `${v}.${kid}.${body.slice(0, 20)}`,
      `${v}.k9.${body}`,
      otherKeyring.sealChallenge(
        JSON.stringify({ i: "x", s: user.id, b: "jwt", e: Date.now() * 2 }),
      ),
      keyring.sealChallenge("not json"),
      keyring.sealChallenge(JSON.stringify({ i: "x", s: user.id })),
      keyring.encryptSecret(
        JSON.stringify({ i: "x", s: user.id, b: "jwt", e: Date.now() * 2 }),
        user.id,
      ),
      "x".repeat(5000),
      null,
      { token },
    ];
    for (const bad of cases) {
      await expect(
        challenges.complete(bad, { code: code(0) }, { backend: "jwt" }),
        String(bad),
      ).rejects.toSatisfy(failsWith(MfaErrorCode.MFA_TOKEN_INVALID));
    }
  });

  it("rateLimitKey: the per-account key of the token's user, the same as the factors'; null for garbage", async () => {
    const { challenges, factors, user } = await login();
    const { token } = challenges.issue(user, "jwt");
    expect(challenges.rateLimitKey(token)).toBe(factors.rateLimitKey(user));
    expect(challenges.rateLimitKey("garbage")).toBeNull();
    expect(challenges.rateLimitKey(undefined)).toBeNull();
  });

  it("a user deleted or deactivated since the password step -> MFA_TOKEN_INVALID", async () => {
    const { challenges, user, code, userManager } = await login();
    const { token } = challenges.issue(user, "jwt");
    await userManager.update({ isActive: false }, user);
    await expect(
      challenges.complete(token, { code: code(0) }, { backend: "jwt" }),
    ).rejects.toSatisfy(failsWith(MfaErrorCode.MFA_TOKEN_INVALID));
    const eve = await userManager.create({ email: "eve@example.com", password: PASSWORD });
    const other = challenges.issue(eve, "jwt").token;
    await userManager.delete(eve);
    await expect(
      challenges.complete(other, { code: code(0) }, { backend: "jwt" }),
    ).rejects.toSatisfy(failsWith(MfaErrorCode.MFA_TOKEN_INVALID));
  });

  it("a user who disabled MFA meanwhile cannot complete it with a code", async () => {
    const { challenges, user, code, factors } = await login();
    const { token } = challenges.issue(user, "jwt");
    await factors.disable(user, { password: PASSWORD });
    await expect(
      challenges.complete(token, { code: code(0) }, { backend: "jwt" }),
    ).rejects.toBeInstanceOf(MfaCodeInvalidError);
  });
});

describe("MfaChallenges, enrol purpose (policy requires a factor the user lacks)", () => {
  async function fresh() {
    const s = await setup();
    const store = new MemoryMfaChallengeStore({ now: () => s.clock.now });
    const challenges = new MfaChallenges({
      userManager: s.userManager,
      factors: s.factors,
      keyring: s.keyring,
      store,
      now: () => s.clock.now,
    });
    return { ...s, challenges };
  }

  it("beginEnrolment gives a secret; completeEnrolment with its first code logs in once and returns recovery codes", async () => {
    const { challenges, user, clock, factors, events } = await fresh();
    const { token } = challenges.issue(user, "jwt", { purpose: "enrol" });
    const { secret, uri } = await challenges.beginEnrolment(token, { backend: "jwt" });
    expect(uri).toMatch(/^otpauth:\/\/totp\//);
    const code = totpAtStep(secret, stepAt(clock.now));
    const done = await challenges.completeEnrolment(token, code, { backend: "jwt" });
    expect(done.user.id).toBe(user.id);
    expect(done.recoveryCodes).toHaveLength(10);
    expect(await factors.isEnabled(user)).toBe(true);
    expect(events.map((e) => e.event.type)).toEqual(["mfa_enabled"]);
    await expect(challenges.beginEnrolment(token, { backend: "jwt" })).rejects.toSatisfy(
      failsWith(MfaErrorCode.MFA_TOKEN_USED),
    );
  });

  it("purposes do not mix: an enrol token cannot complete a login with a code, nor a verify token enrol", async () => {
    const { challenges, user } = await fresh();
    const enrol = challenges.issue(user, "jwt", { purpose: "enrol" }).token;
    const verify = challenges.issue(user, "jwt").token;
    await expect(
      challenges.complete(enrol, { code: "123456" }, { backend: "jwt" }),
    ).rejects.toSatisfy(failsWith(MfaErrorCode.MFA_TOKEN_INVALID));
    await expect(challenges.beginEnrolment(verify, { backend: "jwt" })).rejects.toSatisfy(
      failsWith(MfaErrorCode.MFA_TOKEN_INVALID),
    );
    await expect(
      challenges.completeEnrolment(verify, "123456", { backend: "jwt" }),
    ).rejects.toSatisfy(failsWith(MfaErrorCode.MFA_TOKEN_INVALID));
  });

  it("wrong first codes count; the 5th kills the challenge", async () => {
    const { challenges, user, clock } = await fresh();
    const { token } = challenges.issue(user, "jwt", { purpose: "enrol" });
    const { secret } = await challenges.beginEnrolment(token, { backend: "jwt" });
    const right = totpAtStep(secret, stepAt(clock.now));
    const wrong = right === "000000" ? "000001" : "000000";
    for (let left = 4; left >= 0; left--) {
      const error = await challenges
        .completeEnrolment(token, wrong, { backend: "jwt" })
        .catch((e) => e);
      expect(error.attemptsLeft).toBe(left);
    }
    await expect(challenges.completeEnrolment(token, right, { backend: "jwt" })).rejects.toSatisfy(
      failsWith(MfaErrorCode.MFA_TOKEN_USED),
    );
  });

  it("completeEnrolment before beginEnrolment -> MFA_NOT_ENROLLING, the challenge stays usable", async () => {
    const { challenges, user, clock } = await fresh();
    const { token } = challenges.issue(user, "jwt", { purpose: "enrol" });
    await expect(
      challenges.completeEnrolment(token, "123456", { backend: "jwt" }),
    ).rejects.toSatisfy(failsWith(MfaErrorCode.MFA_NOT_ENROLLING));
    const { secret } = await challenges.beginEnrolment(token, { backend: "jwt" });
    const done = await challenges.completeEnrolment(token, totpAtStep(secret, stepAt(clock.now)), {
      backend: "jwt",
    });
    expect(done.user.id).toBe(user.id);
  });
});

describe("MemoryMfaChallengeStore", () => {
  it("consumes once, counts failures, and forgets both after their TTL", async () => {
    const clock = { now: 0 };
    const store = new MemoryMfaChallengeStore({ now: () => clock.now });
    expect(await store.isConsumed("a")).toBe(false);
    expect(await store.consume("a", 10)).toBe(true);
    expect(await store.consume("a", 10)).toBe(false);
    expect(await store.isConsumed("a")).toBe(true);
    expect(await store.addFailure("b", 10)).toBe(1);
    expect(await store.addFailure("b", 10)).toBe(2);
    clock.now += 61_000;
    expect(await store.isConsumed("a")).toBe(false);
    expect(await store.addFailure("b", 10)).toBe(1);
    expect(store.size).toBe(1);
  });
});
