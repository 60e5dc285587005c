import { RequestContext } from "@mikro-orm/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccessToken } from "./entities/access-token.js";
import { User } from "./entities/user.js";
import { withRequestEntityManager } from "./request-context.js";
import { openTestOrm, type TestOrm } from "./test-utils/orm.js";

let db: TestOrm;
beforeAll(async () => {
  db = await openTestOrm("sqlite", [User, AccessToken]);
});
afterAll(() => db?.close());

describe("withRequestEntityManager", () => {
  it("hands the handler a fork that is also the request context, one per request", async () => {
    const seen = await Promise.all(
      [1, 2].map((n) =>
        withRequestEntityManager(db.orm.em, async (em) => {
          await new Promise((resolve) => setTimeout(resolve, 5 * n));
          // After an await, still the same context: AsyncLocalStorage follows the request.
          expect(RequestContext.getEntityManager()).toBe(em);
          return em;
        }),
      ),
    );
    expect(seen[0]).not.toBe(db.orm.em);
    expect(seen[0]).not.toBe(seen[1]);
    expect(RequestContext.getEntityManager()).toBeUndefined();
  });

  it("returns the handler's value (a Koa middleware returns next()'s promise)", async () => {
    await expect(withRequestEntityManager(db.orm.em, async () => 42)).resolves.toBe(42);
  });
});
