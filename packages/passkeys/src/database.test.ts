import { describe, expectTypeOf, it } from "vitest";
// Core does not export the MFA contract from its entry yet: read it from its source, so a
// change there that this package's structural copy misses fails type-checking here.
import type { MfaDatabase, PasskeyCredential } from "../../core/src/mfa/models.js";
import type { PasskeyDatabase, StoredPasskey } from "./database.js";

describe("PasskeyDatabase", () => {
  it("is the passkey half of core's MfaDatabase: any MfaDatabase is one", () => {
    expectTypeOf<MfaDatabase<string>>().toMatchTypeOf<PasskeyDatabase<string>>();
    expectTypeOf<StoredPasskey>().toEqualTypeOf<PasskeyCredential>();
  });
});
