// What the schema generator makes of the entities: the DDL an app gets from
// orm.schema.create() or a generated migration.
import { MikroORM } from "@mikro-orm/core";
import { PostgreSqlDriver } from "@mikro-orm/postgresql";
import { NodeSqliteDialect, SqliteDriver } from "@mikro-orm/sql";
import { describe, expect, it } from "vitest";
import { AccessToken } from "./access-token.js";
import { User } from "./user.js";

async function createSql(options: ConstructorParameters<typeof MikroORM>[0]): Promise<string> {
  // Not connected: the generator needs only metadata.
  const orm = new MikroORM({ entities: [User, AccessToken], ...options });
  try {
    return await orm.schema.getCreateSchemaSQL();
  } finally {
    await orm.close(true);
  }
}

describe("schema", () => {
  it("PostgreSQL: snake_case columns, unique email, token primary key, indexed user_id, cascade, nullable session columns (jsonb data and claims, indexed handle) and refresh digests", async () => {
    const sql = await createSql({
      driver: PostgreSqlDriver,
      clientUrl: "postgresql://127.0.0.1:1/x",
    });
    expect(sql).toContain(
      'create table "user" ("id" uuid not null, "email" varchar(320) not null, ' +
        '"hashed_password" varchar(1024) not null, "is_active" boolean not null default true, ' +
        '"is_superuser" boolean not null default false, "is_verified" boolean not null default false',
    );
    expect(sql).toMatch(/add constraint "user_email_unique" unique \("email"\)/);
    expect(sql).toContain(
      'create table "access_token" ("token" varchar(64) not null, "created_at" timestamptz not null, ' +
        '"lifetime_seconds" int not null, "handle" varchar(64) null, ' +
        '"last_used_at" timestamptz null, "ip_address" varchar(64) null, ' +
        '"user_agent" varchar(512) null, "data" jsonb null, "claims" jsonb null, ' +
        '"refresh_digest" varchar(64) null, "refresh_parent_digest" varchar(64) null, ' +
        '"user_id" uuid not null, primary key ("token"))',
    );
    expect(sql).toContain('create index "access_token_handle_index" on "access_token" ("handle")');
    expect(sql).toContain(
      'create index "access_token_user_id_index" on "access_token" ("user_id")',
    );
    expect(sql).toMatch(/foreign key \("user_id"\) references "user" \("id"\) on delete cascade/);
  });

  it("SQLite: the same shape, the cascade inline, data and claims as JSON text", async () => {
    const sql = await createSql({
      driver: SqliteDriver,
      dbName: ":memory:",
      driverOptions: new NodeSqliteDialect(":memory:"),
    });
    expect(sql).toMatch(/create unique index `user_email_unique` on `user` \(`email`\)/);
    expect(sql).toMatch(/`token` text not null primary key|primary key \(`token`\)/);
    expect(sql).toMatch(/references `user` \(`id`\) on delete cascade/);
    expect(sql).toContain(
      "`data` json null, `claims` json null, `refresh_digest` text null, `refresh_parent_digest` text null",
    );
    expect(sql).toMatch(
      /create index `access_token_user_id_index` on `access_token` \(`user_id`\)/,
    );
  });
});
