// `tessera` on SQLite: a file in a scratch directory (DATABASE_URL=sqlite:FILE).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { MikroORM } from "@mikro-orm/core";
import { SqliteDriver } from "@mikro-orm/sql";
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
import { TesseraSqliteDialect } from "@tessera/db-mikroorm/sqlite";
import { describe, expect, it } from "vitest";
import { cliScenario } from "./scenario.js";
import { tessera } from "./support.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-cli-sqlite-"));
const file = join(dir, "nested", "app.sqlite");

cliScenario("SQLite", async () => ({
  env: { DATABASE_URL: `sqlite:${file}` },
  firstMigration: /create table `user`/,
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
      new DatabaseSync(file, { readOnly: true })
        .prepare("select name from sqlite_master where type = 'table'")
        .all() as { name: string }[]
    ).map((r) => r.name),
  async open() {
    const orm = await MikroORM.init({
      driver: SqliteDriver,
      dbName: file,
      driverOptions: new TesseraSqliteDialect(file),
      entities: [User, AccessToken, OAuthAccount, MfaTotp, MfaRecoveryCode, Passkey],
    });
    return {
      users: new MikroOrmUserDatabase(orm.em.fork(), User),
      tokens: () => new MikroOrmAccessTokenDatabase(orm.em.fork(), AccessToken),
      close: () => orm.close(),
    };
  },
  drop: async () => rmSync(dir, { recursive: true, force: true }),
}));

describe("tessera on SQLite: a missing file", () => {
  it("is not created by other commands than migrate (exit 1, says to run migrate)", async () => {
    const missing = join(tmpdir(), `tessera-cli-missing-${process.pid}.sqlite`);
    const run = await tessera(["users", "deactivate", "a@example.com"], {
      env: { DATABASE_URL: missing },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `tessera: SQLite ${missing} does not exist: create it with tessera migrate, or check DATABASE_URL\n`,
    );
  });
});
