import { describe } from "vitest";

const FILES = [
  "auth",
  "register",
  "verify",
  "reset",
  "users",
  "current-user",
  "sessions",
  "session-object",
  "csrf",
  "refresh",
  "oauth",
  "mfa",
  "passkeys",
];

/**
 * Runs the HTTP suite (the files in FILES) on another store: sets `TESSERA_HTTP_STORE`,
 * then imports each HTTP test file inside its own suite, so each file's hooks stay
 * scoped to its own tests.
 */
export function runHttpSuiteOn(store: string): void {
  process.env.TESSERA_HTTP_STORE = store;
  for (const file of FILES) {
    describe(`[${store}] test/http/${file}`, async () => {
      await import(`./${file}.test.ts`);
    });
  }
}
