import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { JwtKeyPairAlgorithm } from "./keys.js";
import {
  assemble,
  claimsFor,
  decode,
  keyPair,
  keyPairOptions,
  SECRET,
  setup,
  sign,
} from "./test-utils/fixtures.js";

// A token signed with any algorithm but the configured one, or with none, reads as null.

describe("JWTStrategy pins the algorithm (ASVS 9.1.1, 9.1.2)", () => {
  it.each(["none", "None", "NONE", "nOnE"])(
    "an unsigned alg %s token reads as null",
    async (alg) => {
      const { manager, strategy, addUser } = setup();
      const claims = claimsFor((await addUser()).id);
      expect(await strategy.readToken(assemble({ alg, typ: "JWT" }, claims), manager)).toBeNull();
      // And with the signature of a genuine token glued on.
      const genuine = (await sign(claims)).split(".")[2];
      expect(
        await strategy.readToken(assemble({ alg, typ: "JWT" }, claims, genuine), manager),
      ).toBeNull();
    },
  );

  it("an HS256 token signed with the RSA public key PEM as secret reads as null (key confusion)", async () => {
    const { manager, strategy, addUser } = setup(keyPairOptions("RS256"));
    const pem = keyPair("RS256").publicKey.export({ type: "spki", format: "pem" }) as string;
    const forged = await sign(claimsFor((await addUser()).id), new TextEncoder().encode(pem));
    expect(decode(forged).header.alg).toBe("HS256");
    expect(await strategy.readToken(forged, manager)).toBeNull();
  });

  it("an HS256 token reads as null when RS256 is configured, whatever its secret", async () => {
    const { manager, strategy, addUser } = setup(keyPairOptions("RS256"));
    expect(
      await strategy.readToken(await sign(claimsFor((await addUser()).id)), manager),
    ).toBeNull();
  });

  const algorithms: JwtKeyPairAlgorithm[] = ["RS256", "ES256", "EdDSA"];
  const crossings = ["HS256", ...algorithms].flatMap((from) =>
    ["HS256", ...algorithms].filter((to) => to !== from).map((to) => [from, to] as const),
  );
  it.each(crossings)("a %s token reads as null when %s is configured", async (from, to) => {
    const options = (alg: string) =>
      alg === "HS256" ? { secret: SECRET } : keyPairOptions(alg as JwtKeyPairAlgorithm);
    const { manager, strategy, addUser } = setup(options(to));
    const issuer = setup(options(from)).strategy;
    expect(await strategy.readToken(await issuer.writeToken(await addUser()), manager)).toBeNull();
  });

  it("a token carrying its own key in the jwk header reads as null (ASVS 9.1.3)", async () => {
    const { manager, strategy, addUser } = setup(keyPairOptions("ES256"));
    const attacker = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwk = attacker.publicKey.export({ format: "jwk" });
    const forged = await sign(claimsFor((await addUser()).id), attacker.privateKey, {
      alg: "ES256",
      jwk,
    });
    expect(await strategy.readToken(forged, manager)).toBeNull();
  });

  it("an ES256 token with an all-zero signature reads as null (CVE-2022-21449)", async () => {
    const { manager, strategy, addUser } = setup(keyPairOptions("ES256"));
    const [header, payload] = (await strategy.writeToken(await addUser())).split(".");
    const zero = Buffer.alloc(64).toString("base64url");
    expect(await strategy.readToken(`${header}.${payload}.${zero}`, manager)).toBeNull();
  });
});

describe("JWTStrategy picks the verifying key by kid (ASVS 9.1.1, 9.1.3)", () => {
  it("a token whose kid is unknown reads as null, even signed with a key of ours", async () => {
    const { manager, strategy, addUser } = setup(keyPairOptions("ES256"));
    const claims = claimsFor((await addUser()).id);
    const { privateKey } = keyPair("ES256");
    const unknown = await sign(claims, privateKey, { alg: "ES256", kid: "not-a-kid-of-ours" });
    expect(await strategy.readToken(unknown, manager)).toBeNull();
    // Control: the same token with the strategy's kid is accepted.
    const known = await sign(claims, privateKey, { alg: "ES256", kid: strategy.keys.currentKid });
    expect(await strategy.readToken(known, manager)).not.toBeNull();
  });

  it("a token whose kid names a key of another algorithm reads as null", async () => {
    const { manager, strategy, addUser } = setup({
      keys: [{ privateKey: keyPair("ES256").privateKey }, { secret: SECRET }],
    });
    const hmacKid = strategy.keys.kids[1];
    const claims = claimsFor((await addUser()).id);
    // HS256 signed with the secret but claiming the ES256 key's kid, and the reverse.
    expect(
      await strategy.readToken(
        await sign(claims, undefined, { alg: "HS256", kid: strategy.keys.currentKid }),
        manager,
      ),
    ).toBeNull();
    expect(
      await strategy.readToken(
        await sign(claims, keyPair("ES256").privateKey, { alg: "ES256", kid: hmacKid }),
        manager,
      ),
    ).toBeNull();
    // Control: each with its own kid reads as its user.
    expect(
      await strategy.readToken(
        await sign(claims, undefined, { alg: "HS256", kid: hmacKid }),
        manager,
      ),
    ).not.toBeNull();
  });

  it("a token without kid (the previous release's) reads with the current key only", async () => {
    const { manager, strategy, addUser } = setup({
      keys: [{ privateKey: keyPair("ES256").privateKey }, { secret: SECRET }],
    });
    const claims = claimsFor((await addUser()).id);
    // Signed with the previous HS256 secret, no kid: the current key is ES256, so refused.
    expect(await strategy.readToken(await sign(claims), manager)).toBeNull();
    const { privateKey } = keyPair("ES256");
    expect(
      await strategy.readToken(await sign(claims, privateKey, { alg: "ES256" }), manager),
    ).not.toBeNull();
  });

  it.each(["jku", "x5u", "x5c"])(
    "a token with a %s header reads as null, even signed by our key",
    async (name) => {
      const { manager, strategy, addUser } = setup();
      const claims = claimsFor((await addUser()).id);
      const value = name === "x5c" ? ["MIIB"] : "https://evil.example.com/keys";
      const token = await sign(claims, undefined, {
        alg: "HS256",
        kid: strategy.keys.currentKid,
        [name]: value,
      });
      expect(await strategy.readToken(token, manager)).toBeNull();
    },
  );
});
