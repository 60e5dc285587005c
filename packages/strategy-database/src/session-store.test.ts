import { randomUUID } from "node:crypto";
import {
  MemoryAccessTokenDatabase,
  MemoryUserDatabase,
  userCreateData,
} from "@tessera/core/testing";
import { describeSessionStore } from "./test-utils/session-store-cases.js";

const users = new MemoryUserDatabase();
const tokens = new MemoryAccessTokenDatabase(users);

describeSessionStore({
  name: "memory",
  tokens: () => tokens,
  mergesInPlace: true,
  createUser: async () => (await users.create(userCreateData(`${randomUUID()}@example.com`))).id,
});
