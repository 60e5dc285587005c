// The hostile-input suite: what an attacker sends, over HTTP, to every backend of the test
// app (Bearer + JWT, Cookie + JWT, Bearer + database, Bearer + Redis). Each request must
// get a fast 4xx, and nothing stored may change. Run on every store by *.hostile.test.ts.
import { describe } from "vitest";
import { bodyLimits } from "./body-limits.js";
import { emailVariants } from "./email-variants.js";
import { hostileFixture } from "./fixture.js";
import { forgedTokens } from "./forged-tokens.js";
import { injection } from "./injection.js";
import { malformedHeaders } from "./malformed-headers.js";
import { massAssignment } from "./mass-assignment.js";

/** Registers the whole suite against a test app on `storeName` (`TESSERA_HTTP_STORE`). */
export function hostileInputSuite(storeName: string): void {
  const h = hostileFixture(storeName);
  describe(`[${storeName}] tokens an attacker makes, on every transport × strategy`, () => {
    forgedTokens(h);
  });
  describe(`[${storeName}] malformed and oversized Authorization headers and cookies`, () => {
    malformedHeaders(h);
  });
  describe(`[${storeName}] bodies an attacker sends`, () => {
    massAssignment(h);
    injection(h);
    emailVariants(h);
    bodyLimits(h);
  });
}
