import { describe, expect, it } from "vitest";
import { PasskeyChallengeError, PasskeyError } from "./errors.js";
import { SoftwareAuthenticator } from "./test-utils/authenticator.js";
import { makeService, ORIGIN, registerPasskey } from "./test-utils/fixture.js";

// Routes hand the service whatever JSON a client sent: every shape must end in a typed
// PasskeyError (a 400), never a TypeError (a 500), and never reach the database as an operator.
const garbage: [string, (genuine: Record<string, unknown>) => unknown][] = [
  ["null", () => null],
  ["a string", () => "response"],
  ["an empty object", () => ({})],
  ["no response member", (g) => ({ ...g, response: undefined })],
  ["a null response member", (g) => ({ ...g, response: null })],
  ["rawId not id", (g) => ({ ...g, rawId: "AAAA" })],
  [
    "a non-string clientDataJSON",
    (g) => ({ ...g, response: { ...(g.response as object), clientDataJSON: 1 } }),
  ],
  [
    "clientDataJSON not JSON",
    (g) => ({ ...g, response: { ...(g.response as object), clientDataJSON: "bm90IGpzb24" } }),
  ],
  ["type other than public-key", (g) => ({ ...g, type: "password" })],
];

describe("malformed responses are refused with a typed error", () => {
  it.each(garbage)("registration: %s", async (_, bend) => {
    const { service, alice, db } = await makeService();
    const { challengeId, options } = await service.registrationOptions(alice);
    const genuine = new SoftwareAuthenticator().register(options, { origin: ORIGIN });
    const error = await service
      .verifyRegistration(alice, bend(genuine as never) as never, { challengeId })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PasskeyError);
    expect(db.passkeys.size).toBe(0);
  });

  it.each(garbage)("login: %s", async (_, bend) => {
    const { service, alice } = await makeService();
    const device = new SoftwareAuthenticator();
    await registerPasskey(service, alice, device);
    const { challengeId, options } = await service.authenticationOptions();
    const genuine = device.login(options, { origin: ORIGIN });
    const error = await service
      .verifyAuthentication(bend(genuine as never) as never, { challengeId })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PasskeyError);
  });

  it.each([[null], [undefined], [{ $ne: null }], [""], ["x".repeat(10_000)]])(
    "a challenge id of %j",
    async (challengeId) => {
      const { service } = await makeService();
      await expect(
        service.verifyAuthentication({} as never, { challengeId: challengeId as never }),
      ).rejects.toBeInstanceOf(PasskeyChallengeError);
    },
  );
});
