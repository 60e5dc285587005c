import { decodeJwt, SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { InvalidVerifyTokenError, UserAlreadyVerifiedError, UserInactiveError } from "../errors.js";
import { makeRecordingManager, register, VERIFY_SECRET } from "../test-utils/manager.js";

const key = new TextEncoder().encode(VERIFY_SECRET);
const sign = (claims: Record<string, unknown>, audience = "tessera:verify") =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setAudience(audience)
    .setExpirationTime("1h")
    .sign(key);

afterEach(() => {
  vi.useRealTimers();
});

describe("UserManager.requestVerify", () => {
  it("hands a signed token for aud tessera:verify to onAfterRequestVerify", async () => {
    const { manager, tokens } = makeRecordingManager();
    const user = await register(manager, "alice@example.com");
    await manager.requestVerify(user);
    const claims = decodeJwt(tokens.verify as string);
    expect(claims).toMatchObject({
      sub: user.id,
      email: "alice@example.com",
      aud: "tessera:verify",
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
  });

  it("follows verificationTokenLifetimeSeconds and verificationTokenAudience", async () => {
    const { manager, tokens } = makeRecordingManager({
      verificationTokenLifetimeSeconds: 60,
      verificationTokenAudience: "myapp:verify",
    });
    await manager.requestVerify(await register(manager, "bob@example.com"));
    const claims = decodeJwt(tokens.verify as string);
    expect(claims.aud).toBe("myapp:verify");
    expect((claims.exp as number) - (claims.iat as number)).toBe(60);
    expect(await manager.verify(tokens.verify as string)).toMatchObject({ isVerified: true });
  });

  it("refuses inactive users and already verified users", async () => {
    const { manager, calls } = makeRecordingManager();
    const inactive = await register(manager, "carol@example.com", { isActive: false });
    await expect(manager.requestVerify(inactive)).rejects.toBeInstanceOf(UserInactiveError);
    const verified = await register(manager, "dave@example.com", { isVerified: true });
    await expect(manager.requestVerify(verified)).rejects.toBeInstanceOf(UserAlreadyVerifiedError);
    expect(calls.filter((c) => c.hook === "onAfterRequestVerify")).toEqual([]);
  });
});

describe("UserManager.verify", () => {
  it("verifies the user the token was made for, once", async () => {
    const { manager, tokens, userDb } = makeRecordingManager();
    const user = await register(manager, "erin@example.com");
    await manager.requestVerify(user);
    const verified = await manager.verify(tokens.verify as string);
    expect(verified).toMatchObject({ id: user.id, isVerified: true });
    expect(userDb.users.get(user.id)?.isVerified).toBe(true);
    await expect(manager.verify(tokens.verify as string)).rejects.toBeInstanceOf(
      UserAlreadyVerifiedError,
    );
  });

  it("refuses a token signed with another secret", async () => {
    const { manager, tokens } = makeRecordingManager();
    await manager.requestVerify(await register(manager, "fay@example.com"));
    const { manager: other } = makeRecordingManager({ verificationTokenSecret: "o".repeat(32) });
    await other.create({ email: "fay@example.com", password: "whatever password" });
    await expect(other.verify(tokens.verify as string)).rejects.toBeInstanceOf(
      InvalidVerifyTokenError,
    );
  });

  it("refuses an expired token", async () => {
    const { manager, tokens } = makeRecordingManager();
    const user = await register(manager, "gus@example.com");
    await manager.requestVerify(user);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 3601_000);
    await expect(manager.verify(tokens.verify as string)).rejects.toBeInstanceOf(
      InvalidVerifyTokenError,
    );
  });

  it("refuses a token with the real secret and claims but an exp in the past", async () => {
    const { manager } = makeRecordingManager();
    const user = await register(manager, "gil@example.com");
    const expired = await new SignJWT({ sub: user.id, email: user.email })
      .setProtectedHeader({ alg: "HS256" })
      .setAudience("tessera:verify")
      .setIssuedAt(Math.floor(Date.now() / 1000) - 3700)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 100)
      .sign(key);
    await expect(manager.verify(expired)).rejects.toBeInstanceOf(InvalidVerifyTokenError);
    // The same claims, unexpired, do verify: the refusal above was the expiry's.
    await expect(
      manager.verify(await sign({ sub: user.id, email: user.email })),
    ).resolves.toMatchObject({ isVerified: true });
  });

  it.each(["", "garbage", "a.b.c"])("refuses the malformed token %j", async (token) => {
    const { manager } = makeRecordingManager();
    await expect(manager.verify(token)).rejects.toBeInstanceOf(InvalidVerifyTokenError);
  });

  it("refuses tokens without an email, for an unknown email, or with a non-id sub", async () => {
    const { manager } = makeRecordingManager();
    const user = await register(manager, "hal@example.com");
    for (const claims of [
      { sub: user.id },
      { sub: user.id, email: 42 },
      { sub: user.id, email: "nobody@example.com" },
      { sub: "not-a-uuid", email: user.email },
      { sub: user.id, email: { $ne: null } },
    ]) {
      await expect(manager.verify(await sign(claims))).rejects.toBeInstanceOf(
        InvalidVerifyTokenError,
      );
    }
  });

  it("refuses a token when the email changed after it was issued", async () => {
    const { manager, tokens } = makeRecordingManager();
    const user = await register(manager, "ivy@example.com");
    await manager.requestVerify(user);
    await manager.update({ email: "ivy.new@example.com" }, user);
    await expect(manager.verify(tokens.verify as string)).rejects.toBeInstanceOf(
      InvalidVerifyTokenError,
    );
  });

  it("refuses a token whose email now belongs to another account", async () => {
    const { manager, tokens, userDb } = makeRecordingManager();
    const first = await register(manager, "jay@example.com");
    await manager.requestVerify(first);
    await manager.update({ email: "jay.moved@example.com" }, first);
    const second = await register(manager, "jay@example.com");
    await expect(manager.verify(tokens.verify as string)).rejects.toBeInstanceOf(
      InvalidVerifyTokenError,
    );
    expect(userDb.users.get(second.id)?.isVerified).toBe(false);
  });

  it("cannot verify another user: the subject must own the email", async () => {
    const { manager, tokens, userDb } = makeRecordingManager();
    const alice = await register(manager, "kim@example.com");
    const bob = await register(manager, "lee@example.com");
    // A token with Alice's subject and Bob's email, signed with the real secret.
    await expect(
      manager.verify(await sign({ sub: alice.id, email: bob.email })),
    ).rejects.toBeInstanceOf(InvalidVerifyTokenError);
    // Alice's genuine token verifies Alice only.
    await manager.requestVerify(alice);
    await manager.verify(tokens.verify as string);
    expect(userDb.users.get(alice.id)?.isVerified).toBe(true);
    expect(userDb.users.get(bob.id)?.isVerified).toBe(false);
  });

  it("verifies a user deactivated after the token was issued (FastAPI Users semantics)", async () => {
    const { manager, tokens } = makeRecordingManager();
    const user = await register(manager, "max@example.com");
    await manager.requestVerify(user);
    await manager.update({ isActive: false }, user);
    expect(await manager.verify(tokens.verify as string)).toMatchObject({
      isActive: false,
      isVerified: true,
    });
  });
});
