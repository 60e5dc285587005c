import {
  type ErrorCodeValue,
  isTesseraError,
  type UserManager,
  type UserProtocol,
} from "@tessera/core";

/**
 * Sends an account mail (`send`) to `user` when there is one and `eligible` says so, else
 * signs a decoy token: the answer is the same 202 either way, and so is its cost, so
 * neither reveals which emails are registered (ASVS 5.0 6.3.8). The cases are told apart
 * without an exception (building one costs enough to show); an override of the sending
 * method may still refuse with one of `refusals`, which then counts as nothing to mail.
 */
export async function mailOrDecoy<U extends UserProtocol<ID>, ID>(
  userManager: UserManager<U, ID>,
  user: U | null,
  options: {
    eligible: (user: U) => boolean;
    send: (user: U) => Promise<unknown>;
    refusals: readonly ErrorCodeValue[];
    decoy: "verify" | "reset";
  },
): Promise<void> {
  if (user && options.eligible(user)) {
    try {
      await options.send(user);
      return;
    } catch (error) {
      if (!options.refusals.some((code) => isTesseraError(error, code))) throw error;
    }
  }
  await userManager.signDecoyToken(options.decoy);
}
