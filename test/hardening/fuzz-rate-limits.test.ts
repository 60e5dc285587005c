// ASVS 5.0 2.4.1, 16.5.3: the fuzzing of fuzz.test.ts against tight rate limits, reached
// before the first batch: 429s on every limited route, and still never a 5xx.
import { describe, expect, it } from "vitest";
import { BATCH, fuzz, ROUTES } from "./fuzz/run.js";
import { fuzzTarget } from "./fuzz/target.js";
import { PASSWORD } from "./support.js";

/** Batches against tight limits (no identity upkeep: logins soon get 429). */
const LIMITED_RUNS = 40;

describe("ASVS 5.0 2.4.1, 16.5.3: fuzzed requests under tight rate limits never get a 5xx", () => {
  // Tight limits, so that 429s come soon, for accounts and (forwarded) client addresses.
  const tight = {
    account: { limit: 2, windowSeconds: 60 },
    client: { limit: 3, windowSeconds: 60, maxBlockSeconds: 120 },
  };
  const target = fuzzTarget("memory", {
    trustedProxies: ["127.0.0.0/8", "::1"],
    routes: Object.fromEntries(ROUTES.map((r) => [r, tight])),
  });

  it(`${BATCH * LIMITED_RUNS} generated requests with the limits already reached: no 5xx`, async () => {
    // Reach the limits first: the loopback client's, and the known accounts'.
    const { client } = target;
    const email = target.identities.user?.email ?? "";
    const answers = [];
    for (let i = 0; i < 4; i++) {
      answers.push(await client.form("/auth/db/login", { username: email, password: "wrong" }));
      answers.push(
        await client.json("/auth/register", { email: `x${i}@fuzz.test`, password: PASSWORD }),
      );
      answers.push(await client.json("/auth/forgot-password", { email }));
    }
    expect(answers.filter((a) => a.status === 429).length).toBeGreaterThan(0);
    await fuzz(target, LIMITED_RUNS, false);
  }, 120_000);
});
