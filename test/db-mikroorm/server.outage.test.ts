// ARCHITECTURE.md: an unreachable database answers 503 "fast, and recovers by itself".
// db-mikroorm against private PostgreSQL and MongoDB-protocol servers that are stopped and
// started again, so no other test file is disturbed.
import { generateOpaqueToken, hashToken, ServiceUnavailableError } from "@tessera/core";
import { userCreateData, userWithToken } from "@tessera/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AccessToken,
  MikroOrmAccessTokenDatabase,
  MikroOrmUserDatabase,
  MongoAccessToken,
  MongoUser,
  User,
} from "../../packages/db-mikroorm/src/index.js";
import { openTestOrm, type TestOrm } from "../../packages/db-mikroorm/src/test-utils/orm.js";
import { type PrivateService, startPrivateService } from "../harness/control.js";
import { timedFailure } from "../support/outage.js";

const cases = [
  {
    kind: "postgres" as const,
    driver: "postgresql" as const,
    entities: [User, AccessToken] as const,
    // pg's own default is to wait for a connection forever.
    options: { driverOptions: { connectionTimeoutMillis: 1000 } },
  },
  {
    kind: "mongo" as const,
    driver: "mongodb" as const,
    entities: [MongoUser, MongoAccessToken] as const,
    options: { driverOptions: { serverSelectionTimeoutMS: 1000, connectTimeoutMS: 1000 } },
  },
];

describe.each(cases)("db-mikroorm/$driver when the server goes away and comes back", (c) => {
  let server: PrivateService;
  let db: TestOrm;

  beforeAll(async () => {
    server = await startPrivateService(c.kind);
    const url = c.kind === "postgres" ? { POSTGRES_URL: server.url } : { MONGODB_URL: server.url };
    db = await openTestOrm(c.driver, [...c.entities], c.options, url);
  });
  afterAll(async () => {
    await db?.orm.close(true);
    await server?.dispose();
  });

  it("reads and writes are ServiceUnavailableError within ~1 s; after a restart they work again", async () => {
    const [userEntity, tokenEntity] = c.entities as unknown as [typeof User, typeof AccessToken];
    const users = () => new MikroOrmUserDatabase(db.em(), userEntity);
    const tokens = () => new MikroOrmAccessTokenDatabase(db.em(), tokenEntity);
    const { user, digest } = await userWithToken(users(), tokens(), "outage@example.com", 60);
    // Graceful: the harness runs PostgreSQL with fsync off, so a crash may lose the rows.
    await server.stop("graceful");

    for (const op of [
      () => users().get(user.id),
      () => users().getByEmail(user.email),
      () => users().create(userCreateData("new@example.com")),
      () => users().update(user, { isVerified: true }),
      () => tokens().getByTokenWithUser(digest),
      () => tokens().deleteExpired(new Date()),
    ]) {
      const { error, ms } = await timedFailure(op);
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect((error as Error).cause).toBeDefined();
      expect(ms).toBeLessThan(2500);
    }

    // Lookups of one event-loop turn share a statement on PostgreSQL: each caller still
    // gets its own ServiceUnavailableError.
    const together = await Promise.allSettled([
      tokens().getByTokenWithUser(digest),
      tokens().getByTokenWithUser(hashToken(generateOpaqueToken())),
      users().get(user.id),
      users().get(user.id),
    ]);
    for (const outcome of together) {
      expect(outcome.status).toBe("rejected");
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(ServiceUnavailableError);
    }

    await server.start();
    // No reconnect call: the pool / driver finds the server again on its own.
    const started = performance.now();
    let found = null;
    while (!found && performance.now() - started < 15_000) {
      found = await tokens()
        .getByTokenWithUser(digest)
        .catch(() => null);
      if (!found) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(found?.user.email).toBe(user.email);
    expect((await users().update(user, { isVerified: true })).isVerified).toBe(true);
  });
});
