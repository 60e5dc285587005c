// `tessera` on PostgreSQL (the harness's server), in a scratch database that `migrate`
// itself creates, with Redis: revocation reaches the Redis sessions and the JWT denylist.
import { randomBytes } from "node:crypto";
import { MikroORM } from "@mikro-orm/core";
import { PostgreSqlDriver } from "@mikro-orm/postgresql";
import {
  AccessToken,
  MfaRecoveryCode,
  MfaTotp,
  MikroOrmAccessTokenDatabase,
  MikroOrmUserDatabase,
  OAuthAccount,
  Passkey,
  User,
} from "@tessera/db-mikroorm";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { cliScenario } from "./scenario.js";
import { tessera } from "./support.js";

const server = process.env.POSTGRES_URL as string;
const name = `tessera_cli_${process.pid}_${randomBytes(4).toString("hex")}`;
const url = Object.assign(new URL(server), { pathname: `/${name}` }).href;

async function query<T extends pg.QueryResultRow>(connectionString: string, sql: string) {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

cliScenario(
  "PostgreSQL",
  async () => ({
    // The database does not exist yet: `migrate` creates it.
    env: { DATABASE_URL: url },
    firstMigration: /create table "user"/,
    expectedSchema: [
      "user",
      "access_token",
      "oauth_accounts",
      "mfa_totp",
      "mfa_recovery_codes",
      "passkeys",
    ],
    schema: async () =>
      (
        await query<{ table_name: string }>(
          url,
          "select table_name from information_schema.tables where table_schema = 'public'",
        )
      ).map((r) => r.table_name),
    async open() {
      const orm = await MikroORM.init({
        driver: PostgreSqlDriver,
        clientUrl: url,
        entities: [User, AccessToken, OAuthAccount, MfaTotp, MfaRecoveryCode, Passkey],
      });
      return {
        users: new MikroOrmUserDatabase(orm.em.fork(), User),
        tokens: () => new MikroOrmAccessTokenDatabase(orm.em.fork(), AccessToken),
        close: () => orm.close(),
      };
    },
    drop: async () => {
      await query(server, `drop database if exists "${name}" with (force)`);
    },
  }),
  process.env.REDIS_URL,
);

describe("tessera on PostgreSQL: a database that is not there yet", () => {
  const fresh = `tessera_cli_fresh_${process.pid}_${randomBytes(4).toString("hex")}`;
  const freshUrl = Object.assign(new URL(server), { pathname: `/${fresh}` }).href;
  afterAll(async () => {
    await query(server, `drop database if exists "${fresh}" with (force)`);
  });

  it("other commands than migrate say so (exit 1), without creating it", async () => {
    const run = await tessera(["sessions", "purge-expired"], { env: { DATABASE_URL: freshUrl } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/: the database does not exist: create it with tessera migrate/);
    expect(await query(server, `select 1 from pg_database where datname = '${fresh}'`)).toEqual([]);
  });

  it("two migrate runs at once (instances deploying together) both succeed, the tables made once", async () => {
    const env = { DATABASE_URL: freshUrl };
    const [a, b] = await Promise.all([
      tessera(["migrate"], { env }),
      tessera(["migrate"], { env }),
    ]);
    expect([a.stderr, b.stderr]).toEqual(["", ""]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const tables = await query<{ table_name: string }>(
      freshUrl,
      "select table_name from information_schema.tables where table_schema = 'public'",
    );
    expect(tables.map((t) => t.table_name).sort()).toEqual(
      [
        "access_token",
        "mfa_recovery_codes",
        "mfa_totp",
        "oauth_accounts",
        "passkeys",
        "user",
      ].sort(),
    );
    // Nothing went to the management database.
    const leaked = await query<{ table_name: string }>(
      server,
      "select table_name from information_schema.tables where table_schema = 'public' and table_name = 'passkeys'",
    );
    expect(leaked).toEqual([]);
    expect((await tessera(["migrate", "pending"], { env })).stdout).toMatch(/nothing pending/);
  });
});
