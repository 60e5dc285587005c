// The migrator path of docs/packages/db-mikroorm.md: generate the initial migration from
// the entities, run it, and the adapters work on the result (cascade included).
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MikroORM } from "@mikro-orm/core";
import { Migrator } from "@mikro-orm/migrations";
import { NodeSqliteDialect, SqliteDriver } from "@mikro-orm/sql";
import { afterAll, expect, it } from "vitest";
import { MikroOrmAccessTokenDatabase } from "../access-token-database.js";
import { MikroOrmUserDatabase } from "../user-database.js";
import { AccessToken } from "./access-token.js";
import { User } from "./user.js";

// Under the package's node_modules: the generated file imports @mikro-orm/migrations, which
// only resolves from inside the package (and node_modules is never committed).
const pkg = fileURLToPath(new URL("../..", import.meta.url));
const parent = join(pkg, "node_modules", ".tessera-test");
const dir = join(parent, `migrations-${process.pid}-${Date.now()}`);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  if (readdirSync(parent).length === 0) rmSync(parent, { recursive: true, force: true });
});

it("the initial migration creates both tables, the unique email index and the cascade", async () => {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "db.sqlite");
  const orm = await MikroORM.init({
    driver: SqliteDriver,
    dbName: file,
    driverOptions: new NodeSqliteDialect(file),
    entities: [User, AccessToken],
    extensions: [Migrator],
    migrations: { path: dir, emit: "js", silent: true },
  });
  try {
    const created = await orm.migrator.create();
    // The generated code escapes SQLite's backticks: match around them.
    expect(created.code).toMatch(/create table \W+user\W+ \(\W+id\W+ text not null primary key/);
    expect(created.code).toMatch(/references \W+user\W+ \(\W+id\W+\) on delete cascade/);
    expect(readdirSync(dir).filter((f) => f.startsWith("Migration"))).toHaveLength(1);
    expect(readFileSync(join(dir, created.fileName), "utf8")).toContain("user_email_unique");
    await orm.migrator.up();
    expect(await orm.schema.getUpdateSchemaSQL()).toBe(""); // the database now matches the entities

    const users = new MikroOrmUserDatabase(orm.em.fork(), User);
    const tokens = new MikroOrmAccessTokenDatabase(orm.em.fork(), AccessToken);
    const user = await users.create({
      email: "Migrated@Example.com",
      hashedPassword: "hash",
      isActive: true,
      isSuperuser: false,
      isVerified: false,
    });
    const token = "a".repeat(64);
    await tokens.create({ token, userId: user.id, createdAt: new Date(), lifetimeSeconds: 60 });
    expect((await tokens.getByTokenWithUser(token))?.user.email).toBe("migrated@example.com");
    await users.delete(user);
    expect(await tokens.getByToken(token)).toBeNull();
  } finally {
    await orm.close(true);
  }
});
