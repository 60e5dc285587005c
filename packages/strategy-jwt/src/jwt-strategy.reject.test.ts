import { randomUUID } from "node:crypto";
import { UserManager } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { claimsFor, decode, manualClock, SECRET, setup, sign } from "./test-utils/fixtures.js";

// Every case here must read as null, never throw: an invalid token is a 401, not a 500.

describe("JWTStrategy rejects tokens of the wrong time (ASVS 9.2.1)", () => {
  it("an expired token reads as null, from the second of its exp on", async () => {
    const time = manualClock();
    const { strategy, manager, addUser } = setup({
      secret: SECRET,
      lifetimeSeconds: 60,
      clock: time.clock,
    });
    const user = await addUser();
    const token = await strategy.writeToken(user);
    const expMs = (decode(token).payload.exp as number) * 1000;
    time.set(expMs - 1);
    expect(await strategy.readToken(token, manager)).toEqual(user);
    time.set(expMs);
    expect(await strategy.readToken(token, manager)).toBeNull();
  });

  it("a token not valid yet (nbf in the future) reads as null", async () => {
    const { manager, strategy, addUser } = setup();
    const user = await addUser();
    const claims = { ...claimsFor(user.id), nbf: Math.floor(Date.now() / 1000) + 600 };
    expect(await strategy.readToken(await sign(claims), manager)).toBeNull();
  });
});

describe("JWTStrategy rejects tokens for another audience or issuer", () => {
  it("a token for another audience reads as null, even with the same secret (ASVS 9.2.3)", async () => {
    const { manager, addUser } = setup();
    const other = setup({ secret: SECRET, audience: "other-service" }).strategy;
    const token = await other.writeToken(await addUser());
    expect(await setup().strategy.readToken(token, manager)).toBeNull();
  });

  it("a token without aud reads as null (ASVS 9.2.3)", async () => {
    const { manager, strategy, addUser } = setup();
    const { aud: _aud, ...claims } = claimsFor((await addUser()).id);
    expect(await strategy.readToken(await sign(claims), manager)).toBeNull();
  });

  it("a verification token of the user manager is no access token (ASVS 9.2.2)", async () => {
    const { db, strategy, addUser } = setup();
    let verifyToken = "";
    // An app that (wrongly) reuses one secret everywhere: the audience still tells them apart.
    const manager = new UserManager({
      userDb: db,
      verificationTokenSecret: SECRET,
      resetPasswordTokenSecret: "reset-password-secret-reset-password-secret",
      hooks: {
        onAfterRequestVerify: (_user, token) => {
          verifyToken = token;
        },
      },
    });
    await manager.requestVerify(await addUser());
    expect(verifyToken).not.toBe("");
    expect(await strategy.readToken(verifyToken, manager)).toBeNull();
  });

  it("with an issuer configured, a token of another issuer or of none reads as null", async () => {
    const options = { secret: SECRET, issuer: "https://auth.example.com" };
    const { manager, strategy, addUser } = setup(options);
    const user = await addUser();
    const foreign = setup({ ...options, issuer: "https://evil.example.com" }).strategy;
    const unnamed = setup({ secret: SECRET }).strategy;
    expect(await strategy.readToken(await foreign.writeToken(user), manager)).toBeNull();
    expect(await strategy.readToken(await unnamed.writeToken(user), manager)).toBeNull();
  });
});

describe("JWTStrategy rejects tampered and malformed tokens (ASVS 9.1.1)", () => {
  it("control: a hand-signed token with every claim reads as its user", async () => {
    const { manager, strategy, addUser } = setup();
    const user = await addUser();
    expect(await strategy.readToken(await sign(claimsFor(user.id)), manager)).toEqual(user);
  });

  it("a token whose payload was changed to another user reads as null", async () => {
    const { manager, strategy, addUser } = setup();
    const [alice, bob] = [await addUser(), await addUser()];
    const token = await strategy.writeToken(alice);
    const [header, , signature] = token.split(".");
    const payload = Buffer.from(JSON.stringify({ ...decode(token).payload, sub: bob.id }));
    const forged = `${header}.${payload.toString("base64url")}.${signature}`;
    expect(await strategy.readToken(forged, manager)).toBeNull();
  });

  it("a token with a flipped signature bit reads as null", async () => {
    const { manager, strategy, addUser } = setup();
    const token = await strategy.writeToken(await addUser());
    const sig = Buffer.from(token.split(".")[2] ?? "", "base64url");
    sig[0] = (sig[0] ?? 0) ^ 1;
    const tampered = `${token.split(".").slice(0, 2).join(".")}.${sig.toString("base64url")}`;
    expect(await strategy.readToken(tampered, manager)).toBeNull();
  });

  it.each(["exp", "iat", "sub", "jti", "iat_ms"])(
    "a signed token without %s reads as null",
    async (claim) => {
      const { manager, strategy, addUser } = setup();
      const claims: Record<string, unknown> = claimsFor((await addUser()).id);
      delete claims[claim];
      expect(await strategy.readToken(await sign(claims), manager)).toBeNull();
    },
  );

  it.each<[string, Record<string, unknown>]>([
    ["a numeric sub", { sub: 123 }],
    ["an array sub", { sub: ["x"] }],
    ["an object sub", { sub: { $ne: null } }],
    ["an empty sub", { sub: "" }],
    ["a sub that is no valid id", { sub: "not-a-uuid" }],
    ["a numeric jti", { jti: 7 }],
    ["an empty jti", { jti: "" }],
    ["a string exp", { exp: "9999999999" }],
    ["a fractional iat_ms", { iat_ms: 1.5 }],
    ["a string iat_ms", { iat_ms: "1" }],
  ])("a signed token with %s reads as null", async (_name, override) => {
    const { manager, strategy, addUser } = setup();
    const claims = { ...claimsFor((await addUser()).id), ...override };
    expect(await strategy.readToken(await sign(claims), manager)).toBeNull();
  });

  it("a validly signed token longer than 8 KiB reads as null", async () => {
    const { manager, strategy, addUser } = setup();
    const user = await addUser();
    const fits = await sign({ ...claimsFor(user.id), pad: "x".repeat(5000) });
    expect(await strategy.readToken(fits, manager)).toEqual(user);
    const big = await sign({ ...claimsFor(user.id), pad: "x".repeat(6500) });
    expect(big.length).toBeGreaterThan(8192);
    expect(await strategy.readToken(big, manager)).toBeNull();
  });

  it.each([
    "",
    "garbage",
    "a.b.c",
    "..",
    "....",
    "Bearer x",
    "eyJhbGciOiJIUzI1NiJ9.e30.",
    "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln",
    "W10.W10.W10",
    "\u0000\uffff.\ud800.x",
    "😀.😀.😀",
  ])("the garbage string %j reads as null", async (garbage) => {
    const { manager, strategy } = setup();
    expect(await strategy.readToken(garbage, manager)).toBeNull();
  });

  it("null and non-string input read as null", async () => {
    const { manager, strategy } = setup();
    expect(await strategy.readToken(null, manager)).toBeNull();
    expect(await strategy.readToken(42 as never, manager)).toBeNull();
    expect(await strategy.readToken({} as never, manager)).toBeNull();
  });
});

describe("JWTStrategy rejects tokens of users that are gone", () => {
  it("a valid token of an unknown user reads as null", async () => {
    const { manager, strategy } = setup();
    expect(await strategy.readToken(await sign(claimsFor(randomUUID())), manager)).toBeNull();
  });

  it("a token of a deleted user reads as null (ASVS 7.4.2)", async () => {
    const { db, manager, strategy, addUser } = setup();
    const user = await addUser();
    const token = await strategy.writeToken(user);
    await db.delete(user);
    expect(await strategy.readToken(token, manager)).toBeNull();
  });
});
