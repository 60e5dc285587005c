import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import type { JwtRevocationStore } from "../revocation/store.js";

/** One rule every {@link JwtRevocationStore} must follow, runnable under any test runner. */
export interface JwtRevocationStoreCase {
  /** What the case proves, usable as a test name. */
  name: string;
  /** Throws an `AssertionError` when `store` breaks the rule. */
  run(store: JwtRevocationStore): Promise<void>;
}

const HOUR = 3_600_000;
// Fresh ids per run, so the cases can share one store (a real Redis) without clashing.
const id = () => randomBytes(12).toString("base64url");
const at = (ms: number) => new Date(ms);

/**
 * The conformance suite of {@link JwtRevocationStore}: every store (memory, Redis…) runs
 * these same cases. Expiries are an hour ahead, so no case depends on timing.
 *
 * @example
 * import { jwtRevocationStoreCases } from "@tessera/strategy-jwt/testing";
 * describe("RedisJwtRevocationStore", () => {
 *   for (const c of jwtRevocationStoreCases) it(c.name, () => c.run(new RedisJwtRevocationStore(redis)));
 * });
 */
export const jwtRevocationStoreCases: readonly JwtRevocationStoreCase[] = [
  {
    name: "nothing is revoked in an empty store",
    async run(store) {
      assert.equal(await store.isRevoked({ jti: id(), sub: id(), issuedAt: new Date() }), false);
    },
  },
  {
    name: "a revoked jti is revoked, other jtis of the same user are not",
    async run(store) {
      const [jti, other, sub] = [id(), id(), id()];
      await store.revokeToken({ jti, expiresAt: at(Date.now() + HOUR) });
      assert.equal(await store.isRevoked({ jti, sub, issuedAt: new Date() }), true);
      assert.equal(await store.isRevoked({ jti: other, sub, issuedAt: new Date() }), false);
    },
  },
  {
    name: "a user cutoff revokes tokens issued before it and in its own millisecond, not after",
    async run(store) {
      const sub = id();
      const cutoff = Date.now();
      await store.revokeUserTokens({ sub, cutoff: at(cutoff), expiresAt: at(cutoff + HOUR) });
      for (const issued of [cutoff - 60_000, cutoff - 1, cutoff]) {
        assert.equal(
          await store.isRevoked({ jti: id(), sub, issuedAt: at(issued) }),
          true,
          `${issued - cutoff} ms`,
        );
      }
      assert.equal(await store.isRevoked({ jti: id(), sub, issuedAt: at(cutoff + 1) }), false);
    },
  },
  {
    name: "a user cutoff leaves other users alone",
    async run(store) {
      const cutoff = Date.now();
      await store.revokeUserTokens({ sub: id(), cutoff: at(cutoff), expiresAt: at(cutoff + HOUR) });
      assert.equal(
        await store.isRevoked({ jti: id(), sub: id(), issuedAt: at(cutoff - 1) }),
        false,
      );
    },
  },
  {
    name: "a later cutoff replaces an earlier one",
    async run(store) {
      const sub = id();
      const t = Date.now();
      await store.revokeUserTokens({ sub, cutoff: at(t), expiresAt: at(t + HOUR) });
      await store.revokeUserTokens({ sub, cutoff: at(t + 500), expiresAt: at(t + 500 + HOUR) });
      assert.equal(await store.isRevoked({ jti: id(), sub, issuedAt: at(t + 200) }), true);
      assert.equal(await store.isRevoked({ jti: id(), sub, issuedAt: at(t + 501) }), false);
    },
  },
  {
    name: "an earlier cutoff never lowers a later one",
    async run(store) {
      const sub = id();
      const t = Date.now();
      await store.revokeUserTokens({ sub, cutoff: at(t + 500), expiresAt: at(t + 500 + HOUR) });
      await store.revokeUserTokens({ sub, cutoff: at(t), expiresAt: at(t + HOUR) });
      assert.equal(await store.isRevoked({ jti: id(), sub, issuedAt: at(t + 200) }), true);
    },
  },
  {
    name: "a revoked jti stays revoked when issued after its user's cutoff",
    async run(store) {
      const [jti, sub] = [id(), id()];
      const t = Date.now();
      await store.revokeUserTokens({ sub, cutoff: at(t), expiresAt: at(t + HOUR) });
      await store.revokeToken({ jti, expiresAt: at(t + HOUR) });
      assert.equal(await store.isRevoked({ jti, sub, issuedAt: at(t + 1000) }), true);
    },
  },
  {
    name: "a cutoff with exceptJti spares that one token of the user, and only it",
    async run(store) {
      const [kept, sub] = [id(), id()];
      const t = Date.now();
      await store.revokeUserTokens({
        sub,
        cutoff: at(t),
        expiresAt: at(t + HOUR),
        exceptJti: kept,
      });
      assert.equal(await store.isRevoked({ jti: kept, sub, issuedAt: at(t - 1000) }), false);
      assert.equal(await store.isRevoked({ jti: id(), sub, issuedAt: at(t - 1000) }), true);
    },
  },
  {
    name: "a later cutoff without an exception revokes the token an earlier one spared",
    async run(store) {
      const [kept, sub] = [id(), id()];
      const t = Date.now();
      await store.revokeUserTokens({
        sub,
        cutoff: at(t),
        expiresAt: at(t + HOUR),
        exceptJti: kept,
      });
      await store.revokeUserTokens({ sub, cutoff: at(t + 10), expiresAt: at(t + 10 + HOUR) });
      assert.equal(await store.isRevoked({ jti: kept, sub, issuedAt: at(t - 1000) }), true);
    },
  },
  {
    name: "an earlier cutoff with an exception neither lowers a later one nor adds its exception",
    async run(store) {
      const [kept, sub] = [id(), id()];
      const t = Date.now();
      await store.revokeUserTokens({ sub, cutoff: at(t + 500), expiresAt: at(t + 500 + HOUR) });
      await store.revokeUserTokens({
        sub,
        cutoff: at(t),
        expiresAt: at(t + HOUR),
        exceptJti: kept,
      });
      assert.equal(await store.isRevoked({ jti: kept, sub, issuedAt: at(t - 1000) }), true);
      assert.equal(await store.isRevoked({ jti: id(), sub, issuedAt: at(t + 200) }), true);
    },
  },
  {
    name: "a spared token is still revoked by its own logout",
    async run(store) {
      const [kept, sub] = [id(), id()];
      const t = Date.now();
      await store.revokeUserTokens({
        sub,
        cutoff: at(t),
        expiresAt: at(t + HOUR),
        exceptJti: kept,
      });
      await store.revokeToken({ jti: kept, expiresAt: at(t + HOUR) });
      assert.equal(await store.isRevoked({ jti: kept, sub, issuedAt: at(t - 1000) }), true);
    },
  },
];
