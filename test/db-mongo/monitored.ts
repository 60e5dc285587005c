// What the db-mongo tests that watch the wire share: a client with command monitoring, a
// database of the file's own (dropped at the end: files run in parallel), fresh adapters
// on fresh collections, and the commands sent while a callback runs.
import { randomBytes } from "node:crypto";
import { fastFailClientOptions, type MongoIdType } from "@tessera/db-mongo";
import { type CommandStartedEvent, MongoClient } from "mongodb";
import { afterAll, inject } from "vitest";
import type {} from "../harness/types.js";
import { mongoAdapters } from "./fixture.js";

/**
 * A monitored client on a database named after `name` (and the run), closed and dropped
 * after the calling file's tests. Call at a test file's top level.
 */
export function monitoredMongo(name: string) {
  const url = process.env.MONGODB_URL;
  if (!url) throw new Error("MONGODB_URL is not set: run through vitest (the harness sets it)");
  const client = new MongoClient(url, { ...fastFailClientOptions, monitorCommands: true });
  const db = client.db(`tessera_${name}_${randomBytes(6).toString("hex")}`);
  afterAll(async () => {
    await db.dropDatabase();
    await client.close();
  });

  let collections = 0;
  /** Users and tokens adapters on collections of their own, indexes created. */
  async function adapters(idType: MongoIdType) {
    const n = ++collections;
    const adapters = mongoAdapters(db, idType, {
      users: `users_${n}`,
      tokens: `tokens_${n}`,
      oauthKeys: `oauth_keys_${n}`,
      mfa: `mfa_${n}`,
      passkeys: `passkeys_${n}`,
    });
    await adapters.users.ensureIndexes();
    return adapters;
  }

  /** The commands the client sends while `fn` runs. */
  async function sentDuring(fn: () => Promise<unknown>): Promise<CommandStartedEvent[]> {
    const events: CommandStartedEvent[] = [];
    const listener = (event: CommandStartedEvent) => events.push(event);
    client.on("commandStarted", listener);
    try {
      await fn();
    } finally {
      client.off("commandStarted", listener);
    }
    return events;
  }

  return {
    client,
    db,
    /** The MongoDB-protocol server the harness started, or "external". */
    serverKind: inject("services")?.mongo.kind ?? "external",
    adapters,
    sentDuring,
  };
}
