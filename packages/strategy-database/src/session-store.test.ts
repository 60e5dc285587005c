import { randomUUID } from "node:crypto";
import { SessionNotSupportedError } from "@tessera/core";
import {
  MemoryAccessTokenDatabase,
  MemoryUserDatabase,
  userCreateData,
} from "@tessera/core/testing";
import { expect, it } from "vitest";
import { DatabaseSessionStore } from "./session-store.js";
import { describeRefreshSessionStore } from "./test-utils/refresh-store-cases.js";
import { describeSessionStore } from "./test-utils/session-store-cases.js";

const users = new MemoryUserDatabase();
const tokens = new MemoryAccessTokenDatabase(users);

describeSessionStore({
  name: "memory",
  tokens: () => tokens,
  mergesInPlace: true,
  createUser: async () => (await users.create(userCreateData(`${randomUUID()}@example.com`))).id,
});

describeRefreshSessionStore({
  name: "memory",
  tokens: () => tokens,
  createUser: async () => (await users.create(userCreateData(`${randomUUID()}@example.com`))).id,
});

it("rotateRefreshToken needs an adapter with rotateRefresh (a read then an unconditional write could mint two live children)", async () => {
  const database = new MemoryAccessTokenDatabase(users);
  Object.defineProperty(database, "rotateRefresh", { value: undefined });
  const sessions = new DatabaseSessionStore<string>({ database });
  await expect(
    sessions.rotateRefreshToken("a".repeat(64), "b".repeat(64), "c".repeat(64)),
  ).rejects.toThrow(SessionNotSupportedError);
});
