import { describe, expect, it } from "vitest";
import { changesCredentials, cleanInput } from "./user-input.js";

describe("changesCredentials", () => {
  const user = { email: "alice@example.com" };

  it("is true for a new password, false for none or null (null keeps the current one)", () => {
    expect(changesCredentials({ password: "a new passphrase" }, user)).toBe(true);
    expect(changesCredentials({ password: "" }, user)).toBe(true);
    expect(changesCredentials({}, user)).toBe(false);
    expect(changesCredentials({ password: null }, user)).toBe(false);
  });

  it("is true for another email, false for the same one in another case or with spaces", () => {
    expect(changesCredentials({ email: "eve@example.com" }, user)).toBe(true);
    expect(changesCredentials({ email: " Alice@EXAMPLE.com " }, user)).toBe(false);
    expect(changesCredentials({ email: null }, user)).toBe(false);
    expect(changesCredentials({ email: { $ne: null } }, user)).toBe(false);
  });
});

describe("cleanInput", () => {
  it("drops pollution, operator-shaped and server-owned keys, and privileged flags when safe", () => {
    const input = JSON.parse(
      '{"__proto__":{"x":1},"$set":{},"a.b":1,"id":"x","hashedPassword":"h",' +
        '"currentPassword":"p","isSuperuser":true,"email":"a@b.co"}',
    );
    expect({ ...cleanInput(input, true) }).toEqual({ email: "a@b.co" });
    expect({ ...cleanInput(input, false) }).toEqual({ isSuperuser: true, email: "a@b.co" });
    expect(Object.getPrototypeOf(cleanInput(input, false))).toBeNull();
  });
});
