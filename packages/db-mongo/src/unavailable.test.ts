import { createServer, type Socket } from "node:net";
import { ServiceUnavailableError } from "@tessera/core";
import { MongoClient } from "mongodb";
import { afterAll, describe, expect, it } from "vitest";
import { fastFailClientOptions } from "./client-options.js";
import { MongoAccessTokenDatabase } from "./mongo-access-token-database.js";
import { MongoUserDatabase } from "./mongo-user-database.js";
import type { MongoAccessTokenDocument } from "./token-document.js";
import type { MongoUserDocument } from "./user-document.js";

/** A local port nothing listens on: connecting is refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("an unreachable server", async () => {
  const client = new MongoClient(
    `mongodb://127.0.0.1:${await closedPort()}/`,
    fastFailClientOptions,
  );
  const db = client.db("app");
  const users = new MongoUserDatabase(db.collection<MongoUserDocument>("users"));
  const tokens = new MongoAccessTokenDatabase(db.collection<MongoAccessTokenDocument>("tokens"), {
    users,
  });
  afterAll(() => client.close());

  it("answers ServiceUnavailableError, with the driver error as cause, in about a second", async () => {
    const started = performance.now();
    const error = await users.getByEmail("ada@example.com").catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as Error).cause).toMatchObject({ name: "MongoServerSelectionError" });
    expect(elapsed).toBeLessThan(2500);
  });

  it("every kind of operation is ServiceUnavailableError, never a raw driver error", async () => {
    const id = "6b031cb884427eca881abd13";
    const user = {
      id,
      email: "a@b.c",
      hashedPassword: "h",
      isActive: true,
      isSuperuser: false,
      isVerified: false,
    };
    const token = { token: "d".repeat(64), userId: id, createdAt: new Date(), lifetimeSeconds: 60 };
    const operations = [
      () => users.get(id),
      () => users.create(user),
      () => users.update(user, { isVerified: true }),
      () => users.delete(user),
      () => users.ensureIndexes(),
      () => tokens.getByToken(token.token),
      () => tokens.getByTokenWithUser(token.token),
      () => tokens.create(token),
      () => tokens.deleteAllForUser(id),
      () => tokens.deleteExpired(new Date()),
    ];
    const results = await Promise.allSettled(operations.map((op) => op()));
    for (const result of results) {
      expect(result.status).toBe("rejected");
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(ServiceUnavailableError);
    }
  });
});

describe("a server that accepts connections but never answers (a hung host)", async () => {
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const { port } = silent.address() as { port: number };
  const client = new MongoClient(`mongodb://127.0.0.1:${port}/`, fastFailClientOptions);
  const users = new MongoUserDatabase(client.db("app").collection<MongoUserDocument>("users"));
  afterAll(async () => {
    await client.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it("answers ServiceUnavailableError within connectTimeoutMS + serverSelectionTimeoutMS", async () => {
    const started = performance.now();
    const error = await users.get("6b031cb884427eca881abd13").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
