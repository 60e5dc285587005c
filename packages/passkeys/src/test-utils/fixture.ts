/** A PasskeyService over core's in-memory adapter (its MfaDatabase), with a clock the test moves. */
import { type MemoryUser, MemoryUserDatabase, userCreateData } from "@tessera/core/testing";
import { MemoryChallengeStore } from "../challenge-store.js";
import type { PasskeyDatabase } from "../database.js";
import type { PasskeyServiceOptions } from "../options.js";
import { PasskeyService } from "../service.js";
import type { SoftwareAuthenticator } from "./authenticator.js";

export const RP_ID = "example.test";
export const ORIGIN = "https://example.test";
export const SECRET = "passkey-user-handle-secret-of-at-least-32-bytes";

/**
 * The service, its database with two users (alice, bob), its challenge store and clock.
 * `db` shares another fixture's database; `database` puts a wrapper of it in front.
 */
export async function makeService(
  options: Partial<PasskeyServiceOptions<string>> & { db?: MemoryUserDatabase } = {},
) {
  const { db: shared, ...rest } = options;
  const clock = { now: Date.parse("2026-12-06T10:00:00Z") };
  const db = shared ?? new MemoryUserDatabase();
  const user = async (email: string): Promise<MemoryUser> =>
    (await db.getByEmail(email)) ?? (await db.create(userCreateData(email)));
  const alice = await user("alice@example.test");
  const bob = await user("bob@example.test");
  const store = new MemoryChallengeStore({ now: () => clock.now });
  const service = new PasskeyService<string>({
    database: db satisfies PasskeyDatabase<string>,
    rpId: RP_ID,
    rpName: "Example",
    origins: [ORIGIN, "https://login.example.test"],
    userHandleSecret: SECRET,
    challengeStore: store,
    now: () => new Date(clock.now),
    ...rest,
  });
  return { service, db, store, clock, alice, bob };
}

/** Registers a passkey on `authenticator` for `user` through the whole ceremony. */
export async function registerPasskey(
  service: PasskeyService<string>,
  user: MemoryUser,
  authenticator: SoftwareAuthenticator,
  name = "Laptop",
) {
  const { challengeId, options } = await service.registrationOptions(user);
  const response = authenticator.register(options, { origin: ORIGIN });
  return service.verifyRegistration(user, response, { challengeId, name });
}
