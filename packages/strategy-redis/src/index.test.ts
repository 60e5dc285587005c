import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// Exporting a name is a decision: one that appears or disappears without being listed
// here fails, so a helper cannot become public API (or stop being it) unnoticed.
const source = (file: string) => readFileSync(new URL(file, import.meta.url), "utf8");

describe.each([
  {
    entry: "@tessera/strategy-redis",
    file: "./index.ts",
    load: () => import("./index.js"),
    names: [
      "RedisChallengeStore",
      "RedisMfaChallengeStore",
      "RedisOAuthStateStore",
      "RedisSessionStore",
      "RedisStrategy",
      "isUserSnapshot",
      "recommendedClusterOptions",
      "recommendedRedisOptions",
    ],
  },
  {
    entry: "@tessera/strategy-redis/jwt",
    file: "./jwt/index.ts",
    load: () => import("./jwt/index.js"),
    names: ["RedisJwtRevocationStore"],
  },
  {
    entry: "@tessera/strategy-redis/rate-limit",
    file: "./rate-limit/index.ts",
    load: () => import("./rate-limit/index.js"),
    names: ["RedisRateLimitStore"],
  },
])("$entry", ({ file, load, names }) => {
  it("exports exactly the listed values", async () => {
    expect(Object.keys(await load()).sort()).toEqual([...names].sort());
  });

  it("names each export: no `export *`", () => {
    expect(source(file)).not.toMatch(/export\s+(type\s+)?\*/);
  });
});
