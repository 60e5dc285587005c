import { PasskeyAlreadyRegisteredError } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { PasskeyChallengeError, PasskeyVerificationError } from "./errors.js";
import { SoftwareAuthenticator } from "./test-utils/authenticator.js";
import { makeService, ORIGIN, RP_ID, registerPasskey } from "./test-utils/fixture.js";

describe("passkey registration", () => {
  it("asks for a discoverable credential with an opaque user handle, user verification and no attestation", async () => {
    const { service, alice, bob } = await makeService();
    const { challengeId, options } = await service.registrationOptions(alice);
    expect(options.rp).toEqual({ id: RP_ID, name: "Example" });
    expect(options.authenticatorSelection).toMatchObject({
      residentKey: "required",
      requireResidentKey: true,
      userVerification: "required",
    });
    expect(options.attestation).toBe("none");
    expect(options.timeout).toBe(300_000);
    expect(options.excludeCredentials).toEqual([]);
    // The handle is 32 HMAC bytes: not the email, not the id, the same for each call.
    const handle = Buffer.from(options.user.id, "base64url");
    expect(handle.length).toBe(32);
    expect(handle.toString("utf8")).not.toContain(alice.id);
    expect(options.user.id).not.toContain(Buffer.from(alice.email).toString("base64url"));
    expect(options.user.name).toBe(alice.email);
    expect((await service.registrationOptions(alice)).options.user.id).toBe(options.user.id);
    expect((await service.registrationOptions(bob)).options.user.id).not.toBe(options.user.id);
    expect(challengeId).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("ASVS 5.0 6.7.2: each challenge is random, at least 64 bits, never repeated", async () => {
    const { service, alice } = await makeService();
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const { options } = await service.registrationOptions(alice);
      expect(Buffer.from(options.challenge, "base64url").length).toBeGreaterThanOrEqual(8);
      seen.add(options.challenge);
    }
    expect(seen.size).toBe(50);
  });

  it("verifies a real attestation and stores the credential, listed without its key", async () => {
    const { service, db, alice, bob } = await makeService();
    const authenticator = new SoftwareAuthenticator({ backedUp: true });
    const summary = await registerPasskey(service, alice, authenticator, "  Phone  ");
    const [id] = authenticator.credentialIds;
    expect(summary).toEqual({
      id,
      name: "Phone",
      createdAt: new Date("2026-12-06T10:00:00Z"),
      lastUsedAt: null,
      backedUp: true,
    });
    const stored = await db.getPasskey(id as string);
    expect(stored?.userId).toBe(alice.id);
    expect(stored?.credential).toMatchObject({
      counter: 0,
      transports: ["internal"],
      backedUp: true,
    });
    expect(Buffer.from(stored?.credential.publicKey as string, "base64url")[0]).toBe(0xa5); // a COSE map of 5
    expect(await service.listPasskeys(alice)).toEqual([summary]);
    expect(Object.keys((await service.listPasskeys(alice))[0] as object).sort()).toEqual(
      ["backedUp", "createdAt", "id", "lastUsedAt", "name"].sort(),
    );
    expect(await service.listPasskeys(bob)).toEqual([]);
  });

  it("excludes the user's registered passkeys, so one authenticator is not registered twice", async () => {
    const { service, alice } = await makeService();
    const authenticator = new SoftwareAuthenticator();
    await registerPasskey(service, alice, authenticator);
    const { options } = await service.registrationOptions(alice);
    expect(options.excludeCredentials).toEqual([
      { id: authenticator.credentialIds[0], transports: ["internal"], type: "public-key" },
    ]);
    expect(() => authenticator.register(options, { origin: ORIGIN })).toThrow(/InvalidStateError/);
  });

  it("names default to Passkey and are cut at 64 characters", async () => {
    const { service, alice } = await makeService();
    expect((await registerPasskey(service, alice, new SoftwareAuthenticator(), "   ")).name).toBe(
      "Passkey",
    );
    expect(
      (await registerPasskey(service, alice, new SoftwareAuthenticator(), "é".repeat(80))).name,
    ).toBe("é".repeat(64));
  });

  it("refuses a credential id registered already, to another user: PasskeyAlreadyRegisteredError", async () => {
    const { service, db, alice, bob } = await makeService();
    await registerPasskey(service, alice, new SoftwareAuthenticator());
    const [aliceId] = [...db.passkeys.keys()];
    const { challengeId, options } = await service.registrationOptions(bob);
    const forged = new SoftwareAuthenticator().register(options, {
      origin: ORIGIN,
      credentialId: aliceId,
    });
    await expect(service.verifyRegistration(bob, forged, { challengeId })).rejects.toBeInstanceOf(
      PasskeyAlreadyRegisteredError,
    );
    expect((await db.getPasskey(aliceId as string))?.userId).toBe(alice.id);
  });

  it.each([
    [
      "another origin (a phishing site)",
      { origin: "https://example.test.evil.example" },
      /origin/i,
    ],
    ["an origin on http", { origin: "http://example.test" }, /origin/i],
    ["another RP ID", { origin: ORIGIN, rpId: "evil.example" }, /RP ID/i],
    [
      "another challenge",
      { origin: ORIGIN, challenge: Buffer.alloc(32, 7).toString("base64url") },
      /challenge/i,
    ],
    ["an assertion's type", { origin: ORIGIN, type: "webauthn.get" }, /type/i],
  ])("ASVS 5.0 6.3.7: refuses %s with PasskeyVerificationError", async (_, bend, reason) => {
    const { service, db, alice } = await makeService();
    const { challengeId, options } = await service.registrationOptions(alice);
    const response = new SoftwareAuthenticator().register(options, bend);
    const error = await service
      .verifyRegistration(alice, response, { challengeId })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PasskeyVerificationError);
    expect(String((error as Error).message)).toMatch(reason);
    expect(db.passkeys.size).toBe(0);
  });

  it("refuses an authenticator that did not verify the user when verification is required", async () => {
    const { service, alice } = await makeService();
    const { challengeId, options } = await service.registrationOptions(alice);
    const response = new SoftwareAuthenticator({ userVerified: false }).register(options, {
      origin: ORIGIN,
    });
    await expect(service.verifyRegistration(alice, response, { challengeId })).rejects.toThrow(
      PasskeyVerificationError,
    );
  });

  it("accepts it when verification is only preferred", async () => {
    const { service, alice } = await makeService({ userVerification: "preferred" });
    const summary = await registerPasskey(
      service,
      alice,
      new SoftwareAuthenticator({ userVerified: false }),
    );
    expect(summary.name).toBe("Laptop");
  });

  it("refuses a credential the client says is not discoverable (credProps.rk false)", async () => {
    const { service, db, alice } = await makeService();
    const { challengeId, options } = await service.registrationOptions(alice);
    const response = new SoftwareAuthenticator().register(options, { origin: ORIGIN, rk: false });
    await expect(service.verifyRegistration(alice, response, { challengeId })).rejects.toThrow(
      /non-discoverable/,
    );
    expect(db.passkeys.size).toBe(0);
  });

  it("accepts each configured origin", async () => {
    const { service, alice } = await makeService();
    const { challengeId, options } = await service.registrationOptions(alice);
    const response = new SoftwareAuthenticator().register(options, {
      origin: "https://login.example.test",
    });
    await expect(
      service.verifyRegistration(alice, response, { challengeId }),
    ).resolves.toMatchObject({
      name: "Passkey",
    });
  });

  describe("ASVS 5.0 6.7.2: the challenge is single-use and bound to its user and purpose", () => {
    it("a challenge issued to alice does not register a passkey for bob", async () => {
      const { service, alice, bob } = await makeService();
      const { challengeId, options } = await service.registrationOptions(alice);
      const response = new SoftwareAuthenticator().register(options, { origin: ORIGIN });
      await expect(
        service.verifyRegistration(bob, response, { challengeId }),
      ).rejects.toBeInstanceOf(PasskeyChallengeError);
      // …and it was used up by the attempt: alice cannot use it after.
      await expect(
        service.verifyRegistration(alice, response, { challengeId }),
      ).rejects.toBeInstanceOf(PasskeyChallengeError);
    });

    it("a response is accepted once", async () => {
      const { service, alice } = await makeService();
      const { challengeId, options } = await service.registrationOptions(alice);
      const response = new SoftwareAuthenticator().register(options, { origin: ORIGIN });
      await service.verifyRegistration(alice, response, { challengeId });
      await expect(
        service.verifyRegistration(alice, response, { challengeId }),
      ).rejects.toBeInstanceOf(PasskeyChallengeError);
    });

    it("a login challenge does not register", async () => {
      const { service, alice } = await makeService();
      const login = await service.authenticationOptions();
      const { options } = await service.registrationOptions(alice);
      const response = new SoftwareAuthenticator().register(
        { ...options, challenge: login.options.challenge },
        { origin: ORIGIN },
      );
      await expect(
        service.verifyRegistration(alice, response, { challengeId: login.challengeId }),
      ).rejects.toThrow(/issued for login/);
    });

    it("an expired challenge is refused", async () => {
      const { service, clock, alice } = await makeService();
      const { challengeId, options } = await service.registrationOptions(alice);
      const response = new SoftwareAuthenticator().register(options, { origin: ORIGIN });
      clock.now += 300_000;
      await expect(
        service.verifyRegistration(alice, response, { challengeId }),
      ).rejects.toBeInstanceOf(PasskeyChallengeError);
    });

    it.each([
      ["unknown", "A".repeat(43)],
      ["malformed", "../x"],
      ["not a string", 42],
    ])("a %s challenge id is refused", async (_, challengeId) => {
      const { service, alice } = await makeService();
      const { options } = await service.registrationOptions(alice);
      const response = new SoftwareAuthenticator().register(options, { origin: ORIGIN });
      await expect(
        service.verifyRegistration(alice, response, { challengeId: challengeId as string }),
      ).rejects.toBeInstanceOf(PasskeyChallengeError);
    });
  });
});
