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
import { cliScenario } from "./scenario.js";

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
