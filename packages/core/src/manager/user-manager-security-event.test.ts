import { describe, expect, it } from "vitest";
import { makeManager, makeRecordingManager, register } from "../test-utils/manager.js";
import type { MemoryUser } from "../testing/memory.js";
import type { SecurityEvent } from "./hooks.js";
import { UserManager } from "./user-manager.js";

const CTX = { request: "the HTTP context" };

const EVENTS: SecurityEvent[] = [
  { type: "mfa_enabled", factor: "totp" },
  { type: "mfa_disabled", factor: "totp", by: "password" },
  { type: "recovery_code_used", remaining: 9 },
  { type: "recovery_codes_regenerated", count: 10 },
  { type: "passkey_added", credentialId: "cred-1", name: "Laptop" },
  { type: "passkey_removed", credentialId: "cred-1", name: "Laptop" },
];

describe("UserManager.onSecurityEvent (ASVS 5.0 6.3.6: users hear of changes to their factors)", () => {
  it("calls options.hooks.onSecurityEvent with the user, the event and the context", async () => {
    const { manager, calls } = makeRecordingManager();
    const user = await register(manager, "events@example.com");
    calls.length = 0;
    for (const event of EVENTS) await manager.onSecurityEvent(user, event, CTX);
    expect(calls).toEqual(
      EVENTS.map((event) => ({ hook: "onSecurityEvent", args: [user, event, CTX] })),
    );
  });

  it("a subclass may override it; without a hook it does nothing", async () => {
    const seen: SecurityEvent["type"][] = [];
    class AppUserManager extends UserManager<MemoryUser, string> {
      override async onSecurityEvent(_user: MemoryUser, event: SecurityEvent) {
        seen.push(event.type);
      }
    }
    const { manager: plain, userDb } = makeManager();
    const user = await register(plain, "sub@example.com");
    await plain.onSecurityEvent(user, { type: "mfa_enabled", factor: "totp" });
    const app = new AppUserManager({
      userDb,
      verificationTokenSecret: "verify-secret-0123456789-abcdefghijklmnop",
      resetPasswordTokenSecret: "reset-secret-0123456789-abcdefghijklmnopq",
    });
    for (const event of EVENTS) await app.onSecurityEvent(user, event);
    expect(seen).toEqual(EVENTS.map((e) => e.type));
  });

  it("a throwing hook fails the call", async () => {
    const boom = new Error("mail server down");
    const { manager } = makeManager({
      hooks: {
        onSecurityEvent: () => {
          throw boom;
        },
      },
    });
    const user = await register(manager, "boom@example.com");
    await expect(
      manager.onSecurityEvent(user, { type: "recovery_code_used", remaining: 0 }),
    ).rejects.toBe(boom);
  });
});
