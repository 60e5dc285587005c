import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// Exporting a name is a decision: one that appears or disappears without being listed
// here fails, so a helper cannot become public API (or stop being it) unnoticed.
const PUBLIC = [
  "AuditLog",
  "AuthenticationBackend",
  "Authenticator",
  "BearerTransport",
  "ConfigurationError",
  "CookieTransport",
  "ErrorCode",
  "ForbiddenError",
  "InvalidCurrentPasswordError",
  "InvalidIDError",
  "InvalidPasswordError",
  "InvalidResetPasswordTokenError",
  "InvalidSessionDataError",
  "InvalidVerifyTokenError",
  "MemoryRateLimitStore",
  "PASSWORD_REASONS",
  "PasswordHelper",
  "MfaNotSupportedError",
  "OAuthAccountAlreadyLinkedError",
  "OAuthNotSupportedError",
  "PasskeyAlreadyRegisteredError",
  "PasswordReasonCode",
  "RefreshTokenInvalidError",
  "RefreshTokenReusedError",
  "SESSION_DEVICE_LIMITS",
  "ServiceUnavailableError",
  "SessionDataTooLargeError",
  "SessionNotSupportedError",
  "StrategyDestroyNotSupportedError",
  "TesseraError",
  "UnauthorizedError",
  "UserAlreadyExistsError",
  "UserAlreadyVerifiedError",
  "UserInactiveError",
  "UserManager",
  "UserNotExistsError",
  "UserUpdateConflictError",
  "DEFAULT_SESSION_LIMITS",
  "boundDevice",
  "checkPassword",
  "checkPasswordLength",
  "checkSessionJson",
  "generateOpaqueToken",
  "hashToken",
  "integerIdParser",
  "isMfaDatabase",
  "isOAuthAccountDatabase",
  "isTesseraError",
  "mergeSessionJson",
  "normalizeEmail",
  "objectIdStringParser",
  "passwordLengthBounds",
  "uuidIdParser",
];

// Shared by Tessera's packages, no semver promise.
const INTERNAL = [
  "MAX_TOKEN_LENGTH",
  "MFA_DATABASE_VERBS",
  "OAUTH_ACCOUNT_DATABASE_VERBS",
  "changesCredentials",
  "checkRateLimitRule",
  "fromMongoJson",
  "isOpaqueTokenShape",
  "safeEqual",
  "secretKey",
  "serializeCookie",
  "toMongoJson",
  "sessionIdFromDigest",
];

const TESTING = [
  "MemoryAccessTokenDatabase",
  "describeAdapterConformance",
  "MemoryUserDatabase",
  "userCreateData",
  "userWithToken",
];

const source = (file: string) => readFileSync(new URL(file, import.meta.url), "utf8");

describe.each([
  { entry: "@tessera/core", file: "./index.ts", load: () => import("./index.js"), names: PUBLIC },
  {
    entry: "@tessera/core/internal",
    file: "./internal.ts",
    load: () => import("./internal.js"),
    names: INTERNAL,
  },
  {
    entry: "@tessera/core/testing",
    file: "./testing/index.ts",
    load: () => import("./testing/index.js"),
    names: TESTING,
  },
])("$entry", ({ file, load, names }) => {
  it("exports exactly the listed values", async () => {
    expect(Object.keys(await load()).sort()).toEqual([...names].sort());
  });

  it("names each export: no `export *`", () => {
    expect(source(file)).not.toMatch(/export\s+(type\s+)?\*/);
  });
});

it("keeps public and internal names apart", () => {
  expect(PUBLIC.filter((name) => INTERNAL.includes(name))).toEqual([]);
});
