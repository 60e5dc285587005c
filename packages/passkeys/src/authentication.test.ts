import { MemoryUserDatabase } from "@tessera/core/testing";
import { describe, expect, it } from "vitest";
import { MemoryChallengeStore } from "./challenge-store.js";
import {
  PasskeyChallengeError,
  PasskeyCounterError,
  PasskeyErrorCode,
  PasskeyUnknownCredentialError,
  PasskeyUserHandleMismatchError,
  PasskeyVerificationError,
} from "./errors.js";
import { SoftwareAuthenticator } from "./test-utils/authenticator.js";
import { makeService, ORIGIN, RP_ID, registerPasskey, SECRET } from "./test-utils/fixture.js";

/** A registered authenticator and a fresh login ceremony's options. */
async function setUp(
  options: Parameters<typeof makeService>[0] = {},
  authenticator = new SoftwareAuthenticator(),
) {
  const fixture = await makeService(options);
  await registerPasskey(fixture.service, fixture.alice, authenticator);
  const credentialId = authenticator.credentialIds[0] as string;
  return { ...fixture, authenticator, credentialId };
}

describe("passkey login (discoverable, no username)", () => {
  it("register, then log in: the user is found from the credential alone", async () => {
    const { service, db, authenticator, credentialId, clock, alice } = await setUp();
    const { challengeId, options } = await service.authenticationOptions();
    expect(options).toMatchObject({
      rpId: RP_ID,
      allowCredentials: [],
      userVerification: "required",
      timeout: 300_000,
    });
    clock.now += 60_000;
    const response = authenticator.login(options, { origin: ORIGIN });
    await expect(service.verifyAuthentication(response, { challengeId })).resolves.toEqual({
      userId: alice.id,
      credentialId,
      userVerified: true,
    });
    const stored = await db.getPasskey(credentialId);
    expect(stored?.credential.counter).toBe(1);
    expect(stored?.credential.lastUsedAt).toEqual(new Date(clock.now));
    // And again: the counter moves on.
    const next = await service.authenticationOptions();
    await service.verifyAuthentication(authenticator.login(next.options, { origin: ORIGIN }), next);
    expect((await db.getPasskey(credentialId))?.credential.counter).toBe(2);
  });

  it("logs in with a synced passkey whose counter stays 0, every time", async () => {
    const { service, db, authenticator, credentialId, alice } = await setUp(
      {},
      new SoftwareAuthenticator({ counts: false }),
    );
    for (let i = 0; i < 3; i++) {
      const { challengeId, options } = await service.authenticationOptions();
      const login = await service.verifyAuthentication(
        authenticator.login(options, { origin: ORIGIN }),
        { challengeId },
      );
      expect(login.userId).toBe(alice.id);
    }
    expect((await db.getPasskey(credentialId))?.credential.counter).toBe(0);
  });

  it.each([
    ["another origin (a phishing site)", { origin: "https://evil.example" }, /origin/i],
    ["another RP ID", { origin: ORIGIN, rpId: "evil.example" }, /RP ID/i],
    [
      "another challenge",
      { origin: ORIGIN, challenge: Buffer.alloc(32, 1).toString("base64url") },
      /challenge/i,
    ],
    ["a registration's type", { origin: ORIGIN, type: "webauthn.create" }, /type/i],
  ])(
    "ASVS 5.0 6.3.7: refuses %s with PasskeyVerificationError, counter untouched",
    async (_, bend, reason) => {
      const { service, db, authenticator, credentialId } = await setUp();
      const { challengeId, options } = await service.authenticationOptions();
      const error = await service
        .verifyAuthentication(authenticator.login(options, bend), { challengeId })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PasskeyVerificationError);
      expect((error as PasskeyVerificationError).code).toBe(
        PasskeyErrorCode.PASSKEY_VERIFICATION_FAILED,
      );
      expect((error as Error).message).toMatch(reason);
      expect((await db.getPasskey(credentialId))?.credential).toMatchObject({
        counter: 0,
        lastUsedAt: null,
      });
    },
  );

  it("refuses a signature made by another key (same credential id, forged)", async () => {
    const { service, authenticator } = await setUp();
    const { challengeId, options } = await service.authenticationOptions();
    const genuine = authenticator.login(options, { origin: ORIGIN });
    const other = new SoftwareAuthenticator();
    const elsewhere = await makeService();
    await registerPasskey(elsewhere.service, elsewhere.alice, other);
    const forged = other.login(options, { origin: ORIGIN });
    const response = {
      ...genuine,
      response: { ...genuine.response, signature: forged.response.signature },
    };
    await expect(service.verifyAuthentication(response, { challengeId })).rejects.toThrow(
      /signature/,
    );
  });

  it("ASVS 5.0 6.3.7: refuses an assertion without user verification when it is required", async () => {
    const fixture = await makeService();
    const device = new SoftwareAuthenticator({ userVerified: false });
    await registerPasskey(
      (await makeService({ userVerification: "preferred", db: fixture.db })).service,
      fixture.alice,
      device,
    );
    const { challengeId, options } = await fixture.service.authenticationOptions();
    await expect(
      fixture.service.verifyAuthentication(device.login(options, { origin: ORIGIN }), {
        challengeId,
      }),
    ).rejects.toThrow(/User verification required/);
  });

  describe("ASVS 5.0 6.7.2: challenges are single-use, short-lived and bound to their purpose", () => {
    it("a replayed assertion (same challenge) is refused", async () => {
      const { service, authenticator } = await setUp();
      const { challengeId, options } = await service.authenticationOptions();
      const response = authenticator.login(options, { origin: ORIGIN });
      await service.verifyAuthentication(response, { challengeId });
      await expect(service.verifyAuthentication(response, { challengeId })).rejects.toBeInstanceOf(
        PasskeyChallengeError,
      );
    });

    it("a replayed assertion against a new challenge is refused", async () => {
      const { service, authenticator } = await setUp();
      const first = await service.authenticationOptions();
      const response = authenticator.login(first.options, { origin: ORIGIN });
      await service.verifyAuthentication(response, first);
      const second = await service.authenticationOptions();
      await expect(service.verifyAuthentication(response, second)).rejects.toThrow(/challenge/);
    });

    it("a failed attempt uses the challenge up too", async () => {
      const { service, authenticator } = await setUp();
      const { challengeId, options } = await service.authenticationOptions();
      await expect(
        service.verifyAuthentication(
          authenticator.login(options, { origin: "https://evil.example" }),
          { challengeId },
        ),
      ).rejects.toBeInstanceOf(PasskeyVerificationError);
      await expect(
        service.verifyAuthentication(authenticator.login(options, { origin: ORIGIN }), {
          challengeId,
        }),
      ).rejects.toBeInstanceOf(PasskeyChallengeError);
    });

    it("a challenge lives 5 minutes by default", async () => {
      const { service, authenticator, clock, alice } = await setUp();
      const fresh = await service.authenticationOptions();
      const stale = await service.authenticationOptions();
      clock.now += 299_000;
      await expect(
        service.verifyAuthentication(authenticator.login(fresh.options, { origin: ORIGIN }), fresh),
      ).resolves.toMatchObject({ userId: alice.id });
      clock.now += 1_000;
      await expect(
        service.verifyAuthentication(authenticator.login(stale.options, { origin: ORIGIN }), stale),
      ).rejects.toBeInstanceOf(PasskeyChallengeError);
    });

    it("the service refuses an expired challenge even from a store that kept it", async () => {
      const kept = new Map<string, string>();
      const lenient = {
        async put(id: string, value: string) {
          kept.set(id, value);
        },
        async take(id: string) {
          const value = kept.get(id) ?? null;
          kept.delete(id);
          return value;
        },
      };
      const { service, authenticator, clock } = await setUp({
        challengeStore: lenient,
        timeoutSeconds: 60,
      });
      const { challengeId, options } = await service.authenticationOptions();
      clock.now += 60_000;
      await expect(
        service.verifyAuthentication(authenticator.login(options, { origin: ORIGIN }), {
          challengeId,
        }),
      ).rejects.toThrow(/Expired/);
    });

    it("a registration challenge does not log in", async () => {
      const { service, authenticator, alice } = await setUp();
      const { challengeId, options } = await service.registrationOptions(alice);
      const response = authenticator.login(
        { challenge: options.challenge, rpId: RP_ID },
        { origin: ORIGIN },
      );
      await expect(service.verifyAuthentication(response, { challengeId })).rejects.toThrow(
        /issued for register/,
      );
    });
  });

  describe("signature counter", () => {
    it("refuses a counter that does not increase (a cloned authenticator)", async () => {
      const { service, db, authenticator, credentialId } = await setUp();
      const clone = authenticator.clone();
      const first = await service.authenticationOptions();
      await service.verifyAuthentication(
        authenticator.login(first.options, { origin: ORIGIN }),
        first,
      );
      const second = await service.authenticationOptions();
      const error = await service
        .verifyAuthentication(clone.login(second.options, { origin: ORIGIN }), second)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PasskeyCounterError);
      expect((error as PasskeyCounterError).code).toBe("PASSKEY_COUNTER_NOT_INCREASED");
      expect((await db.getPasskey(credentialId))?.credential.counter).toBe(1);
    });

    it.each([
      ["equal to", 5],
      ["lower than", 3],
      ["back at 0 after", 0],
    ])("refuses a counter %s the stored one", async (_, counter) => {
      const { service, authenticator } = await setUp();
      const first = await service.authenticationOptions();
      await service.verifyAuthentication(
        authenticator.login(first.options, { origin: ORIGIN, counter: 5 }),
        first,
      );
      const again = await service.authenticationOptions();
      await expect(
        service.verifyAuthentication(
          authenticator.login(again.options, { origin: ORIGIN, counter }),
          again,
        ),
      ).rejects.toBeInstanceOf(PasskeyCounterError);
    });

    it("two concurrent logins with one assertion: exactly one succeeds", async () => {
      const { service, authenticator } = await setUp();
      const { challengeId, options } = await service.authenticationOptions();
      const response = authenticator.login(options, { origin: ORIGIN });
      const results = await Promise.allSettled([
        service.verifyAuthentication(response, { challengeId }),
        service.verifyAuthentication(response, { challengeId }),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const [refused] = results.filter((r) => r.status === "rejected");
      expect((refused as PromiseRejectedResult).reason).toBeInstanceOf(PasskeyChallengeError);
    });

    it("two concurrent logins of a device and its clone, both read the counter first: the conditional write lets one in", async () => {
      // Both requests are held until both have read the stored counter, so neither sees
      // the other's write: only the conditional update can tell them apart.
      const db = new MemoryUserDatabase();
      let waiting: (() => void) | null = null;
      let reads = 0;
      const racing = Object.assign(Object.create(db) as MemoryUserDatabase, {
        async getPasskey(id: string) {
          const found = await db.getPasskey(id);
          reads += 1;
          if (reads === 1) await new Promise<void>((resolve) => (waiting = resolve));
          else if (reads === 2) waiting?.();
          return found;
        },
      });
      const { service, alice } = await makeService({ db, database: racing });
      const authenticator = new SoftwareAuthenticator();
      await registerPasskey(service, alice, authenticator);
      const clone = authenticator.clone();
      const a = await service.authenticationOptions();
      const b = await service.authenticationOptions();
      const results = await Promise.allSettled([
        service.verifyAuthentication(authenticator.login(a.options, { origin: ORIGIN }), a),
        service.verifyAuthentication(clone.login(b.options, { origin: ORIGIN }), b),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
      const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(refused.reason).toBeInstanceOf(PasskeyCounterError);
      expect(
        (await db.getPasskey(authenticator.credentialIds[0] as string))?.credential.counter,
      ).toBe(1);
    });

    it("a login that lost the write to a lower counter still goes on with its higher one", async () => {
      const { service, db, authenticator, credentialId, alice } = await setUp();
      const { challengeId, options } = await service.authenticationOptions();
      const response = authenticator.login(options, { origin: ORIGIN, counter: 3 });
      // Another login (counter 2) writes between this one's read and its write.
      const update = db.updatePasskeyCounter.bind(db);
      let interfered = false;
      db.updatePasskeyCounter = async (id, expected, counter, at) => {
        if (!interfered) {
          interfered = true;
          await update(id, 0, 2, at);
        }
        return update(id, expected, counter, at);
      };
      await expect(service.verifyAuthentication(response, { challengeId })).resolves.toMatchObject({
        userId: alice.id,
      });
      expect((await db.getPasskey(credentialId))?.credential.counter).toBe(3);
    });
  });

  it("refuses an unknown credential (removed, or never registered here)", async () => {
    const { service, authenticator, credentialId, alice } = await setUp();
    expect(await service.removePasskey(alice, credentialId)).toBe(true);
    const { challengeId, options } = await service.authenticationOptions();
    await expect(
      service.verifyAuthentication(authenticator.login(options, { origin: ORIGIN }), {
        challengeId,
      }),
    ).rejects.toBeInstanceOf(PasskeyUnknownCredentialError);
  });

  it.each([
    ["another user's handle", "bob"],
    ["no user handle", null],
    ["a handle made with another secret", "other-secret"],
  ])("refuses a credential presented with %s", async (_, which) => {
    const { service, authenticator, alice, bob } = await setUp();
    let userHandle: string | null = null;
    if (which === "bob") userHandle = (await service.registrationOptions(bob)).options.user.id;
    if (which === "other-secret") {
      const other = (await makeService({ userHandleSecret: `x${SECRET}` })).service;
      userHandle = (await other.registrationOptions(alice)).options.user.id;
    }
    const { challengeId, options } = await service.authenticationOptions();
    const response = authenticator.login(options, { origin: ORIGIN, userHandle });
    await expect(service.verifyAuthentication(response, { challengeId })).rejects.toBeInstanceOf(
      PasskeyUserHandleMismatchError,
    );
  });

  it("keeps logging in passkeys made before a user-handle secret rotation", async () => {
    const { db, authenticator, alice } = await setUp();
    const { service } = await makeService({ db, userHandleSecret: [`new-${SECRET}`, SECRET] });
    const { challengeId, options } = await service.authenticationOptions();
    await expect(
      service.verifyAuthentication(authenticator.login(options, { origin: ORIGIN }), {
        challengeId,
      }),
    ).resolves.toMatchObject({ userId: alice.id });
  });

  it.each([
    ["an object id (NoSQL operator)", { $ne: null }],
    ["no id", undefined],
    ["a non-base64url id", "a b"],
  ])("refuses a response with %s before reading the database", async (_, id) => {
    const { service, authenticator, db } = await setUp();
    const { challengeId, options } = await service.authenticationOptions();
    const genuine = authenticator.login(options, { origin: ORIGIN });
    let read = false;
    db.getPasskey = async () => {
      read = true;
      return null;
    };
    const response = { ...genuine, id: id as string };
    await expect(service.verifyAuthentication(response, { challengeId })).rejects.toBeInstanceOf(
      PasskeyVerificationError,
    );
    expect(read).toBe(false);
  });

  it("logs in through any challenge store that keeps the contract", async () => {
    const store = new MemoryChallengeStore();
    const { service, authenticator } = await setUp({ challengeStore: store, now: undefined });
    const { challengeId, options } = await service.authenticationOptions();
    expect(store.size).toBe(1);
    await service.verifyAuthentication(authenticator.login(options, { origin: ORIGIN }), {
      challengeId,
    });
    expect(store.size).toBe(0);
  });
});

describe("listing and removing passkeys", () => {
  it("ASVS 5.0 6.5.6: a user removes their own passkey, not another user's", async () => {
    const { service, credentialId, alice, bob } = await setUp();
    const bobs = new SoftwareAuthenticator();
    await registerPasskey(service, bob, bobs);
    expect(await service.removePasskey(bob, credentialId)).toBe(false);
    expect(await service.listPasskeys(alice)).toHaveLength(1);
    expect(await service.removePasskey(alice, "not base64url!")).toBe(false);
    expect(await service.removePasskey(alice, credentialId)).toBe(true);
    expect(await service.listPasskeys(alice)).toEqual([]);
    expect(await service.removePasskey(alice, credentialId)).toBe(false);
    expect((await service.listPasskeys(bob)).map((p) => p.id)).toEqual(bobs.credentialIds);
  });

  it("lists oldest first with the last use", async () => {
    const { service, clock, authenticator, alice } = await setUp();
    clock.now += 1000;
    await registerPasskey(service, alice, new SoftwareAuthenticator(), "Key");
    const { challengeId, options } = await service.authenticationOptions();
    await service.verifyAuthentication(authenticator.login(options, { origin: ORIGIN }), {
      challengeId,
    });
    const list = await service.listPasskeys(alice);
    expect(list.map((p) => p.name)).toEqual(["Laptop", "Key"]);
    expect(list[0]?.lastUsedAt).toEqual(new Date(clock.now));
    expect(list[1]?.lastUsedAt).toBeNull();
  });
});
