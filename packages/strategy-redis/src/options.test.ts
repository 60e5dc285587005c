import { ConfigurationError } from "@tessera/core";
import { describe, expect, it } from "vitest";
import type { RedisClient } from "./lib/scripts.js";
import { resolveOptions } from "./options.js";

// Construction never talks to Redis: a stand-in with the one method checked is enough.
const redis = { evalsha: () => {} } as unknown as RedisClient;

describe("RedisStrategy options", () => {
  it("defaults match DatabaseStrategy's lifetimes and the documented key prefixes", () => {
    const resolved = resolveOptions({ redis });
    expect(resolved).toMatchObject({
      prefix: "tessera:token:",
      userIndexPrefix: "tessera:user-tokens:",
      lifetimeSeconds: 3600,
      maxLifetimeSeconds: 30 * 24 * 3600,
      snapshot: false,
      clock: Date.now,
      limits: { maxDataBytes: 16_384, maxClaimsBytes: 2048 },
    });
  });

  it("fails at construction on a configuration that cannot work", () => {
    for (const bad of [
      { lifetimeSeconds: 0 },
      { lifetimeSeconds: 1.5 },
      { lifetimeSeconds: 3600, maxLifetimeSeconds: 60 },
      { maxLifetimeSeconds: Number.POSITIVE_INFINITY },
      { prefix: "" },
      { userIndexPrefix: "" },
      { prefix: "same:", userIndexPrefix: "same:" },
      { limits: { maxDataBytes: 0 } },
      { limits: { maxClaimsBytes: 1.5 } },
    ]) {
      expect(() => resolveOptions({ redis, ...bad }), JSON.stringify(bad)).toThrow(
        ConfigurationError,
      );
    }
    expect(() => resolveOptions({ redis: {} as RedisClient })).toThrow(ConfigurationError);
  });
});
