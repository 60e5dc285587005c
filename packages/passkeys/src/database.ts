import type { MfaDatabase } from "@tessera/core";

/**
 * What the passkey service needs of storage: the passkey half of core's `MfaDatabase`
 * (issue 17), so any `MfaDatabase` is one, and a test or an app can give just these methods.
 */
export type PasskeyDatabase<ID = unknown> = Pick<
  MfaDatabase<ID>,
  "listPasskeys" | "getPasskey" | "addPasskey" | "updatePasskeyCounter" | "removePasskey"
>;
