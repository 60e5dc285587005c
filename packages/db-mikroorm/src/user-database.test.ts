// Behaviour beyond the shared conformance suite (sqlite.conformance.test.ts, and on servers
// test/db-mikroorm/*.conformance.test.ts), on SQLite through node:sqlite: no server needed.
import { type EntityName, type InferEntity, MikroORM } from "@mikro-orm/core";
import { PostgreSqlDriver } from "@mikro-orm/postgresql";
import { ServiceUnavailableError } from "@tessera/core";
import { userCreateData } from "@tessera/core/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, expectTypeOf, it } from "vitest";
import { MikroOrmAccessTokenDatabase } from "./access-token-database.js";
import { AccessToken } from "./entities/access-token.js";
import { MongoUser, User } from "./entities/user.js";
import { AppAccessToken, AppUser, IntAccessToken, IntUser } from "./test-utils/app-entities.js";
import { openTestOrm, type TestOrm } from "./test-utils/orm.js";
import { MikroOrmUserDatabase } from "./user-database.js";

let db: TestOrm;
beforeAll(async () => {
  db = await openTestOrm("sqlite", [
    User,
    AccessToken,
    AppUser,
    AppAccessToken,
    IntUser,
    IntAccessToken,
  ]);
});
afterAll(() => db?.close());
beforeEach(async () => {
  const em = db.em();
  for (const entity of [AccessToken, AppAccessToken, IntAccessToken, User, AppUser, IntUser]) {
    await em.nativeDelete(entity as EntityName<object>, {});
  }
});

describe("MikroOrmUserDatabase", () => {
  it("stores emails in normalizeEmail's form: NFKC look-alikes, spaces and case collapse", async () => {
    const users = new MikroOrmUserDatabase(db.em(), User);
    const user = await users.create(userCreateData(" ＡＤＡ@Example.COM "));
    expect(user.email).toBe("ada@example.com");
    expect((await users.getByEmail("ada@EXAMPLE.com"))?.id).toBe(user.id);
    expect((await users.getByEmail("ＡＤＡ@example.com"))?.id).toBe(user.id);
  });

  it("ignores fields the entity does not have, and never writes an id given in data", async () => {
    const users = new MikroOrmUserDatabase(db.em(), AppUser);
    const user = await users.create(
      userCreateData("app@example.com", { firstName: "Ada", nickname: "x" }),
    );
    expect(user).toMatchObject({ firstName: "Ada" });
    expect(user).not.toHaveProperty("nickname");
    const other = "00000000-0000-4000-8000-000000000001";
    const updated = await users.update(user, { firstName: "Grace", id: other, nickname: "y" });
    expect(updated).toMatchObject({ id: user.id, firstName: "Grace" });
    expect(await users.get(other)).toBeNull();
    expect(await users.get(user.id)).toMatchObject({ firstName: "Grace" });
  });

  it("an update with nothing the entity stores sends no query", async () => {
    const users = new MikroOrmUserDatabase(db.em(), User);
    const user = await users.create(userCreateData("noop@example.com"));
    const { result, queries } = await db.captureQueries(() =>
      users.update(user, { nickname: "x" }),
    );
    expect(result).toEqual(user);
    expect(queries).toHaveLength(0);
  });

  it("integer ids: numbers come back as numbers; numeric strings are accepted", async () => {
    const users = new MikroOrmUserDatabase(db.em(), IntUser);
    const user = await users.create(userCreateData("int@example.com"));
    expect(typeof user.id).toBe("number");
    expect((await users.get(user.id))?.email).toBe("int@example.com");
    expect((await users.get(String(user.id) as unknown as number))?.email).toBe("int@example.com");
    expect(await users.get(-user.id)).toBeNull();
  });

  it("infers the plain user type from the entity", () => {
    const em = db.em();
    type Got<D extends { get(id: never): Promise<unknown> }> = NonNullable<
      Awaited<ReturnType<D["get"]>>
    >;
    type Plain = Got<MikroOrmUserDatabase<InferEntity<typeof User>>>;
    expectTypeOf<Plain["id"]>().toEqualTypeOf<string>();
    expectTypeOf<Plain["isActive"]>().toEqualTypeOf<boolean>();
    expectTypeOf<Got<MikroOrmUserDatabase<InferEntity<typeof AppUser>>>>().toHaveProperty(
      "firstName",
    );
    expectTypeOf(new MikroOrmUserDatabase(em, IntUser).get).parameter(0).toEqualTypeOf<number>();
    expectTypeOf(new MikroOrmUserDatabase(em, MongoUser).get).parameter(0).toEqualTypeOf<string>();
    expectTypeOf(new MikroOrmAccessTokenDatabase(em, IntAccessToken).deleteAllForUser)
      .parameter(0)
      .toEqualTypeOf<number>();
    expectTypeOf(new MikroOrmAccessTokenDatabase(em, AccessToken).deleteAllForUser)
      .parameter(0)
      .toEqualTypeOf<string>();
  });
});

describe("an unreachable database", () => {
  it("is ServiceUnavailableError for reads and writes, with the driver error as cause", async () => {
    // Nothing listens on port 1: connections are refused at once.
    const orm = new MikroORM({
      driver: PostgreSqlDriver,
      clientUrl: "postgresql://postgres@127.0.0.1:1/none",
      entities: [User, AccessToken],
      driverOptions: { connectionTimeoutMillis: 1000 },
    });
    try {
      const users = new MikroOrmUserDatabase(orm.em.fork(), User);
      const tokens = new MikroOrmAccessTokenDatabase(orm.em.fork(), AccessToken);
      for (const op of [
        () => users.get("00000000-0000-4000-8000-000000000000"),
        () => users.create(userCreateData("down@example.com")),
        () => tokens.getByTokenWithUser("d".repeat(64)),
        () => tokens.deleteExpired(new Date()),
      ]) {
        const error = await op().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ServiceUnavailableError);
        expect((error as Error).cause).toBeDefined();
      }
    } finally {
      await orm.close(true);
    }
  });
});
