import { createHmac } from "node:crypto";
import { decodeJwt, SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  InvalidPasswordError,
  InvalidResetPasswordTokenError,
  InvalidVerifyTokenError,
  ServiceUnavailableError,
  UserInactiveError,
} from "../errors.js";
import { uuidIdParser } from "../id.js";
import {
  makeRecordingManager,
  PASSWORD,
  RESET_SECRET,
  register,
  VERIFY_SECRET,
} from "../test-utils/manager.js";

const NEW_PASSWORD = "a brand new passphrase";

afterEach(() => {
  vi.useRealTimers();
});

describe("UserManager.forgotPassword", () => {
  it("hands a signed token for aud tessera:reset to onAfterForgotPassword", async () => {
    const { manager, tokens } = makeRecordingManager();
    const user = await register(manager, "alice@example.com");
    await manager.forgotPassword(user);
    const claims = decodeJwt(tokens.reset as string);
    expect(claims).toMatchObject({ sub: user.id, aud: "tessera:reset" });
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
    // The fingerprint is keyed: it neither is nor contains the password hash.
    expect(typeof claims.pwd).toBe("string");
    expect(JSON.stringify(claims)).not.toContain(user.hashedPassword.split("$").at(-1));
  });

  it("refuses inactive users", async () => {
    const { manager, calls } = makeRecordingManager();
    const user = await register(manager, "bob@example.com", { isActive: false });
    await expect(manager.forgotPassword(user)).rejects.toBeInstanceOf(UserInactiveError);
    expect(calls.filter((c) => c.hook === "onAfterForgotPassword")).toEqual([]);
  });
});

describe("UserManager.signDecoyToken", () => {
  // What forgot-password and request-verify-token do when they mail nothing, so that their
  // timing does not tell registered emails (ASVS 5.0 6.3.8): the same signing, for nobody.
  it("reset: a real signature with the reset key, no hook, and a token that resets nothing", async () => {
    const { manager, calls } = makeRecordingManager();
    const token = await manager.signDecoyToken("reset");
    expect(calls).toEqual([]);
    expect(decodeJwt(token)).toMatchObject({ sub: "tessera:decoy", aud: "tessera:reset" });
    expect(typeof decodeJwt(token).pwd).toBe("string");
    await expect(manager.resetPassword(token, NEW_PASSWORD)).rejects.toBeInstanceOf(
      InvalidResetPasswordTokenError,
    );
  });

  it("verify: a real signature with the verify key, no hook, and a token that verifies nobody", async () => {
    const { manager, calls } = makeRecordingManager();
    const token = await manager.signDecoyToken("verify");
    expect(calls).toEqual([]);
    expect(decodeJwt(token)).toMatchObject({ sub: "tessera:decoy", aud: "tessera:verify" });
    await expect(manager.verify(token)).rejects.toBeInstanceOf(InvalidVerifyTokenError);
  });
});

describe("UserManager.resetPassword", () => {
  it("sets the new password from a token", async () => {
    const { manager, tokens } = makeRecordingManager();
    const user = await register(manager, "carol@example.com");
    await manager.forgotPassword(user);
    const updated = await manager.resetPassword(tokens.reset as string, NEW_PASSWORD);
    expect(updated.hashedPassword).not.toBe(user.hashedPassword);
    expect(
      await manager.authenticate({ username: user.email, password: NEW_PASSWORD }),
    ).not.toBeNull();
    expect(await manager.authenticate({ username: user.email, password: PASSWORD })).toBeNull();
  });

  it("works once: the second use fails, even with the same password again", async () => {
    const { manager, tokens } = makeRecordingManager();
    await manager.forgotPassword(await register(manager, "dave@example.com"));
    const token = tokens.reset as string;
    await manager.resetPassword(token, NEW_PASSWORD);
    await expect(manager.resetPassword(token, NEW_PASSWORD)).rejects.toBeInstanceOf(
      InvalidResetPasswordTokenError,
    );
  });

  it("dies when the password changes another way", async () => {
    const { manager, tokens } = makeRecordingManager();
    const user = await register(manager, "erin@example.com");
    await manager.forgotPassword(user);
    await manager.update({ password: "changed in settings" }, user);
    await expect(
      manager.resetPassword(tokens.reset as string, NEW_PASSWORD),
    ).rejects.toBeInstanceOf(InvalidResetPasswordTokenError);
  });

  it("refuses an expired token", async () => {
    const { manager, tokens } = makeRecordingManager({ resetPasswordTokenLifetimeSeconds: 60 });
    await manager.forgotPassword(await register(manager, "fay@example.com"));
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 61_000);
    await expect(
      manager.resetPassword(tokens.reset as string, NEW_PASSWORD),
    ).rejects.toBeInstanceOf(InvalidResetPasswordTokenError);
  });

  it("refuses a token with the real secret and fingerprint but an exp in the past", async () => {
    const { manager } = makeRecordingManager();
    const user = await register(manager, "fox@example.com");
    const key = new TextEncoder().encode(RESET_SECRET);
    const pwd = createHmac("sha256", key).update(user.hashedPassword).digest("base64url");
    const token = (exp: number) =>
      new SignJWT({ sub: user.id, pwd })
        .setProtectedHeader({ alg: "HS256" })
        .setAudience("tessera:reset")
        .setExpirationTime(exp)
        .sign(key);
    const now = Math.floor(Date.now() / 1000);
    await expect(manager.resetPassword(await token(now - 1), NEW_PASSWORD)).rejects.toBeInstanceOf(
      InvalidResetPasswordTokenError,
    );
    await expect(manager.resetPassword(await token(now + 60), NEW_PASSWORD)).resolves.toBeDefined();
  });

  it("refuses a user deactivated after the token was issued, and changes nothing", async () => {
    const { manager, tokens, userDb } = makeRecordingManager();
    const user = await register(manager, "gus@example.com");
    await manager.forgotPassword(user);
    await manager.update({ isActive: false }, user);
    await expect(
      manager.resetPassword(tokens.reset as string, NEW_PASSWORD),
    ).rejects.toBeInstanceOf(UserInactiveError);
    expect(userDb.users.get(user.id)?.hashedPassword).toBe(user.hashedPassword);
  });

  it("refuses an invalid new password with InvalidPasswordError; the token still works after", async () => {
    const { manager, tokens } = makeRecordingManager();
    await manager.forgotPassword(await register(manager, "hal@example.com"));
    await expect(manager.resetPassword(tokens.reset as string, "short")).rejects.toBeInstanceOf(
      InvalidPasswordError,
    );
    await expect(
      manager.resetPassword(tokens.reset as string, NEW_PASSWORD),
    ).resolves.toMatchObject({
      email: "hal@example.com",
    });
  });

  it("refuses malformed, foreign and forged tokens", async () => {
    const { manager, userDb } = makeRecordingManager();
    const user = await register(manager, "ivy@example.com");
    const key = new TextEncoder().encode(RESET_SECRET);
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "HS256" })
        .setAudience("tessera:reset")
        .setExpirationTime("1h")
        .sign(key);
    const rightPwd = createHmac("sha256", key).update(user.hashedPassword).digest("base64url");
    for (const token of [
      "",
      "garbage",
      await sign({ sub: user.id }),
      await sign({ sub: user.id, pwd: "wrong fingerprint" }),
      await sign({ sub: user.id, pwd: 42 }),
      await sign({ sub: "not-a-uuid", pwd: rightPwd }),
      await sign({ sub: "8c1f4e1e-2a2b-4c3d-9e8f-0123456789ab", pwd: rightPwd }),
    ]) {
      await expect(manager.resetPassword(token, NEW_PASSWORD)).rejects.toBeInstanceOf(
        InvalidResetPasswordTokenError,
      );
    }
    expect(userDb.users.get(user.id)?.hashedPassword).toBe(user.hashedPassword);
    // The same claims with the right fingerprint do work: the refusals above were the claims'.
    await expect(
      manager.resetPassword(await sign({ sub: user.id, pwd: rightPwd }), NEW_PASSWORD),
    ).resolves.toBeDefined();
  });

  // Bug: only InvalidIDError from parseId was mapped to an invalid token, so a custom
  // idParser throwing anything else (e.g. after an id migration) turned an old reset link
  // into a 500, while verify() mapped every parse failure to an invalid token.
  it("maps any idParser failure to InvalidResetPasswordTokenError (parse error 500)", async () => {
    // Ids issued before a migration no longer parse; the parser throws its own error.
    let migrated = false;
    const migratingParser = {
      ...uuidIdParser,
      parse(value: unknown): string {
        if (migrated) throw new RangeError("legacy id");
        return uuidIdParser.parse(value);
      },
    };
    const { manager, tokens } = makeRecordingManager({ idParser: migratingParser });
    await manager.forgotPassword(await register(manager, "jay@example.com"));
    migrated = true;
    await expect(
      manager.resetPassword(tokens.reset as string, NEW_PASSWORD),
    ).rejects.toBeInstanceOf(InvalidResetPasswordTokenError);
  });

  it("lets a failing user database through (a 503, not an invalid token)", async () => {
    const { manager, tokens, userDb } = makeRecordingManager();
    await manager.forgotPassword(await register(manager, "jo@example.com"));
    userDb.get = () => Promise.reject(new ServiceUnavailableError());
    await expect(
      manager.resetPassword(tokens.reset as string, NEW_PASSWORD),
    ).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});

describe("verify and reset tokens cannot stand in for each other", () => {
  it.each([
    ["different secrets", {}],
    ["one shared secret (audience separation)", { resetPasswordTokenSecret: VERIFY_SECRET }],
  ])("with %s", async (_, overrides) => {
    const { manager, tokens } = makeRecordingManager(overrides);
    const user = await register(manager, "kim@example.com");
    await manager.requestVerify(user);
    await manager.forgotPassword(user);
    await expect(manager.verify(tokens.reset as string)).rejects.toBeInstanceOf(
      InvalidVerifyTokenError,
    );
    await expect(
      manager.resetPassword(tokens.verify as string, NEW_PASSWORD),
    ).rejects.toBeInstanceOf(InvalidResetPasswordTokenError);
    // Both still work for their own purpose.
    await expect(manager.verify(tokens.verify as string)).resolves.toMatchObject({
      isVerified: true,
    });
    await expect(
      manager.resetPassword(tokens.reset as string, NEW_PASSWORD),
    ).resolves.toBeDefined();
  });

  it("a verify token signed with the reset audience and claims still fails verify", async () => {
    const { manager } = makeRecordingManager({ resetPasswordTokenSecret: VERIFY_SECRET });
    const user = await register(manager, "lee@example.com");
    const crossed = await new SignJWT({ sub: user.id, email: user.email, pwd: "x" })
      .setProtectedHeader({ alg: "HS256" })
      .setAudience("tessera:reset")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(VERIFY_SECRET));
    await expect(manager.verify(crossed)).rejects.toBeInstanceOf(InvalidVerifyTokenError);
  });
});
