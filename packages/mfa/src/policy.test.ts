import { describe, expect, it } from "vitest";
import { mfaLoginStep } from "./policy.js";

describe("mfaLoginStep", () => {
  const user = { isSuperuser: false };
  const admin = { isSuperuser: true };
  it("a user with a factor always gets a challenge", () => {
    for (const policy of ["none", "superusers", "everyone"] as const) {
      expect(mfaLoginStep(user, true, policy)).toBe("challenge");
      expect(mfaLoginStep(admin, true, policy)).toBe("challenge");
    }
  });
  it('"none" (the default): users without a factor log in as before', () => {
    expect(mfaLoginStep(user, false)).toBe("session");
    expect(mfaLoginStep(admin, false, "none")).toBe("session");
  });
  it('"superusers": a superuser without a factor needs enrolment; others log in', () => {
    expect(mfaLoginStep(admin, false, "superusers")).toBe("enrolment_required");
    expect(mfaLoginStep(user, false, "superusers")).toBe("session");
  });
  it('ASVS 5.0 6.3.2: "everyone": nobody without a factor logs in', () => {
    expect(mfaLoginStep(user, false, "everyone")).toBe("enrolment_required");
    expect(mfaLoginStep(admin, false, "everyone")).toBe("enrolment_required");
  });
});
