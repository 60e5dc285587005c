import { describe, expect, it, vi } from "vitest";
import { stepAt, totpAtStep } from "./test-utils/rfc6238.js";
import { PASSWORD, setup } from "./test-utils/setup.js";

// ASVS 5.0 7.4.3: a change of a factor ends the user's other sessions; the session that made
// it is kept. The services pass the route's `current` session on to onSecurityEvent, whose
// session handling core tests (user-manager-security-event.test.ts).
describe("the current session reaches UserManager.onSecurityEvent (ASVS 5.0 7.4.3)", () => {
  const current = { token: "the-request-token", handle: "the-handle" };

  it("on confirm, regenerateRecoveryCodes and disable", async () => {
    const s = await setup();
    const seen = vi.spyOn(s.userManager, "onSecurityEvent");
    const { secret } = await s.factors.enrol(s.user);
    await s.factors.confirm(s.user, totpAtStep(secret, stepAt(s.clock.now)), "ctx", current);
    s.clock.now += 60_000;
    await s.factors.regenerateRecoveryCodes(
      s.user,
      totpAtStep(secret, stepAt(s.clock.now)),
      "ctx",
      current,
    );
    await s.factors.disable(s.user, { password: PASSWORD }, "ctx", current);
    expect(
      seen.mock.calls.map(([, event, context, given]) => [event.type, context, given]),
    ).toEqual([
      ["mfa_enabled", "ctx", current],
      ["recovery_codes_regenerated", "ctx", current],
      ["mfa_disabled", "ctx", current],
    ]);
  });

  it("is optional: without it every session ends (an administrator's change)", async () => {
    const s = await setup();
    const seen = vi.spyOn(s.userManager, "onSecurityEvent");
    const { secret } = await s.factors.enrol(s.user);
    await s.factors.confirm(s.user, totpAtStep(secret, stepAt(s.clock.now)));
    expect(seen.mock.calls[0]?.[3]).toBeUndefined();
  });
});
