/** A PasskeyService on an in-memory store and a clock the test moves. */
import { MemoryChallengeStore } from "../challenge-store.js";
import type { PasskeyDatabase } from "../database.js";
import type { PasskeyServiceOptions } from "../options.js";
import { PasskeyService } from "../service.js";
import type { SoftwareAuthenticator } from "./authenticator.js";
import { MemoryPasskeys } from "./memory-passkeys.js";

export const RP_ID = "example.test";
export const ORIGIN = "https://example.test";
export const SECRET = "passkey-user-handle-secret-of-at-least-32-bytes";
export const alice = { id: "user-alice", email: "alice@example.test" };
export const bob = { id: "user-bob", email: "bob@example.test" };

export function makeService(
  options: Partial<PasskeyServiceOptions<string>> & { database?: PasskeyDatabase<string> } = {},
) {
  const clock = { now: Date.parse("2026-12-06T10:00:00Z") };
  const db = new MemoryPasskeys();
  const store = new MemoryChallengeStore({ now: () => clock.now });
  const service = new PasskeyService<string>({
    database: db,
    rpId: RP_ID,
    rpName: "Example",
    origins: [ORIGIN, "https://login.example.test"],
    userHandleSecret: SECRET,
    challengeStore: store,
    now: () => new Date(clock.now),
    ...options,
  });
  return { service, db, store, clock };
}

/** Registers a passkey on `authenticator` for `user` through the whole ceremony. */
export async function registerPasskey(
  service: PasskeyService<string>,
  user: { id: string; email: string },
  authenticator: SoftwareAuthenticator,
  name = "Laptop",
) {
  const { challengeId, options } = await service.registrationOptions(user);
  const response = authenticator.register(options, { origin: ORIGIN });
  return service.verifyRegistration(user, response, { challengeId, name });
}
