import { ServiceUnavailableError } from "@tessera/core";
import { userCreateData, userWithToken } from "@tessera/core/testing";
import {
  fastFailClientOptions,
  type MongoAccessTokenDatabase,
  MongoUserDatabase,
  type MongoUserDocument,
} from "@tessera/db-mongo";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type PrivateService, startPrivateService } from "../harness/control.js";
import type {} from "../harness/types.js";
import { timedFailure } from "../support/outage.js";
import { mongoAdapters } from "./fixture.js";

// ARCHITECTURE.md: an unreachable database answers 503 "fast, and recovers by itself".
// A private server of our own is stopped and started again, so no other file is disturbed.

describe("db-mongo when the server goes away and comes back", () => {
  let server: PrivateService;
  let client: MongoClient;
  let users: MongoUserDatabase;
  let tokens: MongoAccessTokenDatabase;

  beforeAll(async () => {
    server = await startPrivateService("mongo");
    client = new MongoClient(server.url, fastFailClientOptions);
    ({ users, tokens } = mongoAdapters(client.db("outage"), undefined));
    await users.ensureIndexes();
    await tokens.ensureIndexes();
  });
  afterAll(async () => {
    await client?.close();
    await server?.dispose();
  });

  /** The user, read as soon as the restarted server answers (within 15 s), else null. */
  async function readWhenBack(id: string) {
    const started = performance.now();
    let found = null;
    while (!found && performance.now() - started < 15_000) {
      found = await users.get(id).catch(() => null);
      if (!found) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return found;
  }

  /** Rejection of `op`, and how long it took. */

  it.each(["crash", "graceful"] as const)(
    "%s stop: reads and writes are ServiceUnavailableError within ~1 s; after a restart they work again",
    async (mode) => {
      const user = await users.create(userCreateData(`${mode}@example.com`));
      await server.stop(mode);

      for (const op of [
        () => users.get(user.id),
        () => users.getByEmail(user.email),
        () => users.update(user, { isVerified: true }),
        () => tokens.getByTokenWithUser("d".repeat(64)),
        () => tokens.deleteExpired(new Date()),
      ]) {
        const { error, ms } = await timedFailure(op);
        expect(error).toBeInstanceOf(ServiceUnavailableError);
        expect(ms).toBeLessThan(2500);
      }

      await server.start();
      // No reconnect call: the driver finds the server again on its own.
      const found = await readWhenBack(user.id);
      expect(found?.email).toBe(user.email);
      expect((await users.update(user, { isVerified: true })).isVerified).toBe(true);
    },
  );

  // Batched lookups (packages/db-mongo/src/batched-find.ts): one failed find answers every
  // request of its batch, each with its own ServiceUnavailableError around the same cause.
  it("an outage during a batch of lookups: every caller gets ServiceUnavailableError; batching resumes after a restart", async () => {
    const { user, digest } = await userWithToken(users, tokens, "batch@example.com", 60);
    // Learn whether the server has $lookup (without it, getByTokenWithUser reads are batched).
    expect((await tokens.getByTokenWithUser(digest))?.user.id).toBe(user.id);
    const digests = [digest, "e".repeat(64), digest];
    const ids = [user.id, "6b031cb884427eca881abd13", user.id];
    // All asked in one event-loop turn: a find for the tokens, one for the users.
    const lookups = () => ({
      tokens: digests.map((d) => tokens.getByTokenWithUser(d)),
      users: ids.map((id) => users.get(id)),
    });
    await server.stop("crash");

    const during = lookups();
    const reasons = (results: PromiseSettledResult<unknown>[]) =>
      results.map((r) => (r.status === "rejected" ? r.reason : r.value));
    const [tokenResults, userResults] = await Promise.all([
      Promise.allSettled(during.tokens),
      Promise.allSettled(during.users),
    ]);
    const tokenErrors = reasons(tokenResults);
    const userErrors = reasons(userResults);
    for (const error of [...tokenErrors, ...userErrors]) {
      expect(error).toBeInstanceOf(ServiceUnavailableError);
    }
    // Each caller has an error of its own; the users' one find failed once for all three.
    expect(new Set([...tokenErrors, ...userErrors]).size).toBe(6);
    expect(new Set(userErrors.map((e: Error) => e.cause)).size).toBe(1);
    // FerretDB v1 has no $lookup: getByTokenWithUser reads the token by a batched find too.
    if (inject("services")?.mongo.kind === "ferretdb") {
      expect(new Set(tokenErrors.map((e: Error) => e.cause)).size).toBe(1);
    }

    await server.start();
    await readWhenBack(user.id);
    const after = lookups();
    const withUsers = await Promise.all(after.tokens);
    expect(withUsers.map((r) => r?.user.id ?? null)).toEqual([user.id, null, user.id]);
    const gotten = await Promise.all(after.users);
    expect(gotten.map((u) => u?.id ?? null)).toEqual([user.id, null, user.id]);
  });

  // Driver 7 trap (src/mongo_client.ts, _connect): when the *first* connection of a client
  // fails, the driver closes that topology but keeps it, so the client never auto-connects
  // again: every later call is MongoTopologyClosedError (-> 503) even once the server is back,
  // until the app calls client.connect(). docs/packages/db-mongo.md tells apps to connect at
  // start-up. If this test starts failing, the driver fixed it: update the docs.
  it("a client first used during an outage stays closed until client.connect()", async () => {
    await server.stop("crash");
    const fresh = new MongoClient(server.url, fastFailClientOptions);
    try {
      const freshUsers = new MongoUserDatabase(
        fresh.db("outage").collection<MongoUserDocument>("users"),
      );
      const id = "6b031cb884427eca881abd13";
      const first = await freshUsers.get(id).catch((e: unknown) => e);
      expect(first).toBeInstanceOf(ServiceUnavailableError);
      await server.start();
      const stuck = await freshUsers.get(id).catch((e: unknown) => e);
      expect(stuck).toBeInstanceOf(ServiceUnavailableError);
      expect((stuck as Error).cause).toMatchObject({ name: "MongoTopologyClosedError" });
      await fresh.connect();
      expect(await freshUsers.get(id)).toBeNull();
    } finally {
      await fresh.close();
    }
  });
});
