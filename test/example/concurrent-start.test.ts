import { afterAll, describe, expect, it } from "vitest";
import { openPostgres } from "../../examples/koa-app/src/db/postgres.js";
import { scratchPostgres } from "./support.js";

// Instances of one app started at the same moment on an empty PostgreSQL database all
// create the database and its tables; the losers of that race must start, not crash
// (a rolling deploy, or a scaler starting replicas, does exactly this).
const cleanups: (() => void | Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

describe("the example app's schema set-up", () => {
  it("four instances opening one empty PostgreSQL database at once all start", async () => {
    const url = scratchPostgres("concurrent_start", cleanups);
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => openPostgres(url)));
    const stores = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    try {
      expect(
        results
          .filter((r) => r.status === "rejected")
          .map((r) => String((r as PromiseRejectedResult).reason)),
      ).toEqual([]);
      // Every instance sees the one schema in the one database: a user made through one is
      // read through each (a loser of the race once put its tables in the management
      // database, where this read found nobody).
      const [first] = stores;
      if (!first) throw new Error("no store");
      const user = await first.users().create({
        email: "race@example.com",
        hashedPassword: "x",
        isActive: true,
        isSuperuser: false,
        isVerified: false,
      });
      for (const store of stores) {
        expect((await store.users().getByEmail("race@example.com"))?.id).toBe(user.id);
      }
    } finally {
      for (const store of stores) await store.close();
    }
  });
});
