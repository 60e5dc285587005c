import * as vitest from "vitest";
import { describeAdapterConformance } from "./adapter-conformance.js";
import { MemoryAccessTokenDatabase, MemoryUserDatabase } from "./memory.js";

// The in-memory stores are the reference implementation the suite is checked against.
let users = new MemoryUserDatabase();
let tokens = new MemoryAccessTokenDatabase(users);

describeAdapterConformance<string>(
  {
    name: "memory",
    setup: async () => {},
    teardown: async () => {},
    reset: async () => {
      users = new MemoryUserDatabase();
      tokens = new MemoryAccessTokenDatabase(users);
    },
    users: () => users,
    tokens: () => tokens,
    unknownId: "00000000-0000-4000-8000-000000000000",
    malformedIds: ["not-a-uuid", "", { $ne: null }, 42, "x".repeat(10_000)],
    storedTokenValues: async () => [...tokens.tokens.keys()],
  },
  vitest,
);
