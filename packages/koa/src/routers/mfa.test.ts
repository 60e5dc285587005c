import { mfaLoginStep as fromMfa } from "@tessera/mfa";
import { describe, expect, it } from "vitest";
import { mfaLoginStep } from "./mfa.js";

// @tessera/koa keeps @tessera/mfa an optional peer, so it restates the requireFor rule
// instead of importing it: the two must never differ.
describe("the login's requireFor rule", () => {
  const cases = [false, true].flatMap((isSuperuser) =>
    [false, true].flatMap((hasFactor) =>
      (["none", "superusers", "everyone"] as const).map(
        (requireFor) => [isSuperuser, hasFactor, requireFor] as const,
      ),
    ),
  );
  it.each(cases)(
    "superuser %s, factor %s, requireFor %s: as @tessera/mfa's mfaLoginStep",
    (isSuperuser, hasFactor, requireFor) => {
      expect(mfaLoginStep({ isSuperuser }, hasFactor, requireFor)).toBe(
        fromMfa({ isSuperuser }, hasFactor, requireFor),
      );
    },
  );
});
