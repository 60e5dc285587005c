import type { SecurityEvent, UserManager } from "@tessera/core";
import type { MemoryUser } from "@tessera/core/testing";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { PasskeyEventSink } from "./service.js";
import { SoftwareAuthenticator } from "./test-utils/authenticator.js";
import { makeService, ORIGIN } from "./test-utils/fixture.js";

describe("ASVS 5.0 6.3.6: adding and removing a passkey reach the security-event hook", () => {
  it("a UserManager is the sink routes pass", () => {
    expectTypeOf<UserManager<MemoryUser>>().toMatchTypeOf<PasskeyEventSink<MemoryUser>>();
  });

  it("tells passkey_added and passkey_removed with the id, name and the caller's context", async () => {
    const { service, alice, bob } = await makeService();
    const heard: [string, SecurityEvent, unknown][] = [];
    const events: PasskeyEventSink<MemoryUser> = {
      onSecurityEvent: (user, event, context) => {
        heard.push([user.id, event, context]);
      },
    };
    const { challengeId, options } = await service.registrationOptions(alice);
    const response = new SoftwareAuthenticator().register(options, { origin: ORIGIN });
    const added = await service.verifyRegistration(alice, response, {
      challengeId,
      name: "Phone",
      events,
      context: "request-1",
    });
    expect(heard).toEqual([
      [alice.id, { type: "passkey_added", credentialId: added.id, name: "Phone" }, "request-1"],
    ]);

    // Not theirs, or not there: nothing removed, nothing told.
    expect(await service.removePasskey(bob, added.id, { events })).toBe(false);
    expect(heard).toHaveLength(1);

    expect(await service.removePasskey(alice, added.id, { events, context: "request-2" })).toBe(
      true,
    );
    expect(heard[1]).toEqual([
      alice.id,
      { type: "passkey_removed", credentialId: added.id, name: "Phone" },
      "request-2",
    ]);
  });

  it("tells nothing when registration fails", async () => {
    const { service, alice } = await makeService();
    const heard: SecurityEvent[] = [];
    const { challengeId, options } = await service.registrationOptions(alice);
    const response = new SoftwareAuthenticator().register(options, {
      origin: "https://evil.example",
    });
    await expect(
      service.verifyRegistration(alice, response, {
        challengeId,
        events: { onSecurityEvent: (_, event) => void heard.push(event) },
      }),
    ).rejects.toThrow();
    expect(heard).toEqual([]);
  });
});
