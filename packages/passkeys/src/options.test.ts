import { ConfigurationError } from "@tessera/core";
import { MemoryUserDatabase } from "@tessera/core/testing";
import { describe, expect, it } from "vitest";
import { PasskeyService } from "./service.js";

const base = {
  database: new MemoryUserDatabase(),
  rpId: "example.com",
  rpName: "Example",
  origins: "https://example.com",
  userHandleSecret: "passkey-user-handle-secret-of-at-least-32-bytes",
};

describe("PasskeyService configuration: RP ID and origins come from configuration only", () => {
  it.each([
    ["https://example.com", "a scheme"],
    ["example.com:443", "a port"],
    ["example.com/login", "a path"],
    ["Example.com", "upper case"],
    ["", "nothing"],
    [".example.com", "a leading dot"],
  ])("refuses the RP ID %j (%s)", (rpId) => {
    expect(() => new PasskeyService({ ...base, rpId })).toThrow(ConfigurationError);
  });

  it.each([
    ["https://example.com/", "a trailing slash"],
    ["https://example.com/login", "a path"],
    ["http://example.com", "http off localhost"],
    ["https://example.org", "another site"],
    ["https://notexample.com", "a look-alike suffix"],
    ["not a url", "not a URL"],
  ])("refuses the origin %j (%s)", (origin) => {
    expect(() => new PasskeyService({ ...base, origins: origin })).toThrow(ConfigurationError);
  });

  it("refuses an empty origin list", () => {
    expect(() => new PasskeyService({ ...base, origins: [] })).toThrow(ConfigurationError);
  });

  it("accepts subdomains of the RP ID, a port, and http on localhost", () => {
    expect(
      () =>
        new PasskeyService({
          ...base,
          origins: ["https://example.com", "https://login.example.com:8443"],
        }),
    ).not.toThrow();
    expect(
      () => new PasskeyService({ ...base, rpId: "localhost", origins: "http://localhost:3000" }),
    ).not.toThrow();
  });

  it.each([["short"], [[]], [["passkey-user-handle-secret-of-at-least-32-bytes", "short"]]])(
    "refuses a user-handle secret under 32 bytes or none (%j)",
    (userHandleSecret) => {
      expect(() => new PasskeyService({ ...base, userHandleSecret })).toThrow(ConfigurationError);
    },
  );

  it.each([[5], [601], [30.5]])("refuses timeoutSeconds %d", (timeoutSeconds) => {
    expect(() => new PasskeyService({ ...base, timeoutSeconds })).toThrow(RangeError);
  });

  it("sends the configured timeout and user verification", async () => {
    const service = new PasskeyService({
      ...base,
      timeoutSeconds: 120,
      userVerification: "preferred",
    });
    const { options } = await service.authenticationOptions();
    expect(options).toMatchObject({
      timeout: 120_000,
      userVerification: "preferred",
      rpId: "example.com",
    });
  });
});
