/**
 * The passkey methods of core's MfaDatabase, in memory, for this package's tests until
 * core's MemoryUserDatabase implements them. Conditional writes are compare-and-set.
 */
import { PasskeyAlreadyRegisteredError } from "@tessera/core";
import type { PasskeyDatabase, StoredPasskey } from "../database.js";

export class MemoryPasskeys implements PasskeyDatabase<string> {
  readonly byId = new Map<string, { userId: string; credential: StoredPasskey }>();

  async listPasskeys(userId: string): Promise<StoredPasskey[]> {
    return [...this.byId.values()]
      .filter((entry) => entry.userId === userId)
      .map((entry) => ({ ...entry.credential, transports: [...entry.credential.transports] }));
  }

  async getPasskey(
    credentialId: string,
  ): Promise<{ userId: string; credential: StoredPasskey } | null> {
    const entry = this.byId.get(credentialId);
    return entry ? { userId: entry.userId, credential: { ...entry.credential } } : null;
  }

  async addPasskey(userId: string, credential: StoredPasskey): Promise<void> {
    if (this.byId.has(credential.id)) throw new PasskeyAlreadyRegisteredError();
    this.byId.set(credential.id, { userId, credential: { ...credential } });
  }

  async updatePasskeyCounter(
    credentialId: string,
    expectedCounter: number,
    counter: number,
    at: Date,
  ): Promise<boolean> {
    const entry = this.byId.get(credentialId);
    if (!entry || entry.credential.counter !== expectedCounter) return false;
    entry.credential = { ...entry.credential, counter, lastUsedAt: at };
    return true;
  }

  async removePasskey(userId: string, credentialId: string): Promise<boolean> {
    const entry = this.byId.get(credentialId);
    if (!entry || entry.userId !== userId) return false;
    return this.byId.delete(credentialId);
  }
}
