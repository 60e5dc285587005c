// An access-token table of the release before issue 14 (its DDL as orm.schema.create() made
// it), or of issue 14's release (that plus accessTokenSessionColumnsSql), with a live session
// in it, upgraded by the migration steps (accessTokenSessionColumnsSql, then
// accessTokenRefreshColumnsSql of issue 15) or by MikroORM's own schema diff: the schema then
// matches the entities, the session survives, and refresh sessions rotate. And a database of
// issue 15's release gets issue 16's oauth_accounts table from oauthAccountsTableSql, and one
// of issue 16's release gets issue 17's MFA tables from mfaTablesSql.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { type EntityName, MikroORM, type Options } from "@mikro-orm/core";
import { PostgreSqlDriver } from "@mikro-orm/postgresql";
import { SqliteDriver } from "@mikro-orm/sql";
import {
  generateOpaqueToken,
  hashToken,
  PasskeyAlreadyRegisteredError,
  UserManager,
  type UserProtocol,
} from "@tessera/core";
import { sessionIdFromDigest } from "@tessera/core/internal";
import { DatabaseSessionStore, DatabaseStrategy } from "@tessera/strategy-database";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import {
  AccessToken,
  accessTokenRefreshColumnsSql,
  accessTokenSessionColumnsSql,
  MfaRecoveryCode,
  MfaTotp,
  MikroOrmAccessTokenDatabase,
  MikroOrmUserDatabase,
  mfaTablesSql,
  OAuthAccount,
  oauthAccountsTableSql,
  Passkey,
  User,
} from "../../packages/db-mikroorm/src/index.js";
import { TesseraSqliteDialect } from "../../packages/db-mikroorm/src/sqlite.js";

const PREVIOUS_DDL = {
  postgresql: (s: string) => [
    `create table "${s}"."user" ("id" uuid not null, "email" varchar(320) not null, "hashed_password" varchar(1024) not null, "is_active" boolean not null default true, "is_superuser" boolean not null default false, "is_verified" boolean not null default false, primary key ("id"));`,
    `alter table "${s}"."user" add constraint "user_email_unique" unique ("email");`,
    `create table "${s}"."access_token" ("token" varchar(64) not null, "created_at" timestamptz not null, "lifetime_seconds" int not null, "user_id" uuid not null, primary key ("token"));`,
    `create index "access_token_user_id_index" on "${s}"."access_token" ("user_id");`,
    `alter table "${s}"."access_token" add constraint "access_token_user_id_foreign" foreign key ("user_id") references "${s}"."user" ("id") on delete cascade;`,
  ],
  sqlite: () => [
    "create table `user` (`id` text not null primary key, `email` text not null, `hashed_password` text not null, `is_active` integer not null default true, `is_superuser` integer not null default false, `is_verified` integer not null default false);",
    "create unique index `user_email_unique` on `user` (`email`);",
    "create table `access_token` (`token` text not null primary key, `created_at` datetime not null, `lifetime_seconds` integer not null, `user_id` text not null, constraint `access_token_user_id_foreign` foreign key (`user_id`) references `user` (`id`) on delete cascade);",
    "create index `access_token_user_id_index` on `access_token` (`user_id`);",
  ],
};

const USER_ID = "0b6f2b8e-6a52-4a43-9d4e-2f1d2b9d7c11";
const SECRET = "upgrade-test-secret-of-at-least-32-bytes";
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * The release a database comes from: before issue 14 (no session columns), issue 14's
 * (session columns, no refresh columns), issue 15's (both; no oauth_accounts table), or
 * issue 16's (oauth_accounts too; no MFA tables).
 */
type Release = "before-sessions" | "sessions" | "refresh" | "oauth";

/** A database of an earlier release with one user and one live session; its token. */
async function previousRelease(
  kind: "postgresql" | "sqlite",
  release: Release = "before-sessions",
  entities: object[] = [User, AccessToken],
) {
  const token = generateOpaqueToken();
  const created = new Date(Date.now() - 60_000);
  if (kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "tessera-upgrade-"));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "db.sqlite");
    const db = new DatabaseSync(file);
    for (const sql of PREVIOUS_DDL.sqlite()) db.exec(sql);
    db.prepare("insert into `user` values (?, 'old@example.com', 'hash', 1, 0, 0)").run(USER_ID);
    db.prepare("insert into `access_token` values (?, ?, 3600, ?)").run(
      hashToken(token),
      created.getTime(),
      USER_ID,
    );
    if (release !== "before-sessions") {
      for (const sql of accessTokenSessionColumnsSql("sqlite")) db.exec(sql);
      db.prepare("update `access_token` set `handle` = ?").run(
        sessionIdFromDigest(hashToken(token)),
      );
    }
    if (release === "refresh" || release === "oauth") {
      for (const sql of accessTokenRefreshColumnsSql("sqlite")) db.exec(sql);
    }
    if (release === "oauth") {
      for (const sql of oauthAccountsTableSql("sqlite")) db.exec(sql);
    }
    db.close();
    const orm = await MikroORM.init({
      driver: SqliteDriver,
      dbName: file,
      driverOptions: new TesseraSqliteDialect(file),
      entities,
    } as Partial<Options> as Options);
    cleanups.push(() => orm.close(true));
    return {
      orm,
      token,
      run: (sql: string) => orm.em.getConnection().execute(sql),
      schema: undefined,
    };
  }
  // A database of its own, not a schema: MikroORM's schema diff reads the whole database,
  // and the other test files' schemas in the shared one would show as tables to drop.
  const dbName = `tessera_upgrade_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: process.env.POSTGRES_URL });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`create database "${dbName}"`);
  const url = new URL(process.env.POSTGRES_URL as string);
  url.pathname = `/${dbName}`;
  const schema = "public";
  const orm = await MikroORM.init({
    driver: PostgreSqlDriver,
    clientUrl: url.toString(),
    entities,
  } as Partial<Options> as Options);
  const run = (sql: string, params: unknown[] = []) => orm.em.getConnection().execute(sql, params);
  cleanups.push(async () => {
    await orm.close(true);
    await admin(`drop database if exists "${dbName}"`);
  });
  for (const sql of PREVIOUS_DDL.postgresql(schema)) await run(sql);
  await run(
    `insert into "${schema}"."user" values (?, 'old@example.com', 'hash', true, false, false)`,
    [USER_ID],
  );
  await run(`insert into "${schema}"."access_token" values (?, ?, 3600, ?)`, [
    hashToken(token),
    created,
    USER_ID,
  ]);
  if (release !== "before-sessions") {
    for (const sql of accessTokenSessionColumnsSql("postgresql", { schema })) await run(sql);
    await run(`update "${schema}"."access_token" set "handle" = ?`, [
      sessionIdFromDigest(hashToken(token)),
    ]);
  }
  if (release === "refresh" || release === "oauth") {
    for (const sql of accessTokenRefreshColumnsSql("postgresql", { schema })) await run(sql);
  }
  if (release === "oauth") {
    for (const sql of oauthAccountsTableSql("postgresql", { schema })) await run(sql);
  }
  return { orm, token, run, schema };
}

async function assertSessionSurvives(orm: MikroORM, token: string) {
  const users = new MikroOrmUserDatabase(orm.em.fork(), User);
  const strategy = new DatabaseStrategy<UserProtocol<string>>({
    database: new MikroOrmAccessTokenDatabase(orm.em.fork(), AccessToken) as never,
  });
  const manager = new UserManager<UserProtocol<string>, string>({
    userDb: users as never,
    verificationTokenSecret: SECRET,
    resetPasswordTokenSecret: SECRET,
  });
  const read = await strategy.readSession(token, manager);
  expect(read?.user.email).toBe("old@example.com");
  const handle = sessionIdFromDigest(hashToken(token));
  expect(read?.session).toMatchObject({
    handle,
    lastUsedAt: null,
    device: { ipAddress: null, userAgent: null },
    claims: {},
  });
  // The old row gets its handle on that read, so its data is reachable by it.
  expect(await strategy.sessions.getSessionData(handle)).toEqual({});
  expect(await strategy.sessions.mergeSessionData(handle, { theme: "dark" })).toEqual({
    theme: "dark",
  });
  expect(await strategy.sessions.getSessionData(handle)).toEqual({ theme: "dark" });
  expect(
    (await strategy.listSessions?.(read?.user as UserProtocol<string>, token))?.[0],
  ).toMatchObject({
    id: handle,
    current: true,
  });
  const fresh = await strategy.writeSession(read?.user as UserProtocol<string>, {
    claims: { a: 1 },
  });
  expect((await strategy.readSession(fresh, manager))?.session.claims).toEqual({ a: 1 });
}

/** Refresh sessions work on the upgraded table: create, rotate, the parent's grace, reuse. */
async function assertRefreshRotates(orm: MikroORM) {
  const sessions = new DatabaseSessionStore<string>({
    database: new MikroOrmAccessTokenDatabase(orm.em.fork(), AccessToken) as never,
  });
  const first = hashToken(generateOpaqueToken());
  const child = hashToken(generateOpaqueToken());
  const { key, session } = await sessions.createRefreshSession(USER_ID, first);
  expect((await sessions.rotateRefreshToken(key, first, child)).outcome).toBe("rotated");
  expect((await sessions.rotateRefreshToken(key, first, child)).outcome).toBe("parent");
  const grandchild = hashToken(generateOpaqueToken());
  expect((await sessions.rotateRefreshToken(key, child, grandchild)).outcome).toBe("rotated");
  expect((await sessions.rotateRefreshToken(key, first, child)).outcome).toBe("reused");
  expect(await sessions.getSession(session.handle)).toBeNull();
}

describe.each(["postgresql", "sqlite"] as const)(
  "upgrade from the previous release on %s",
  (kind) => {
    it("accessTokenSessionColumnsSql then accessTokenRefreshColumnsSql add exactly the entity's columns; the old session survives", async () => {
      const { orm, token, run, schema } = await previousRelease(kind);
      expect(await orm.schema.getUpdateSchemaSQL()).toContain("handle");
      for (const sql of accessTokenSessionColumnsSql(kind, { schema })) await run(sql);
      for (const sql of accessTokenRefreshColumnsSql(kind, { schema })) await run(sql);
      expect(await orm.schema.getUpdateSchemaSQL()).toBe("");
      await assertSessionSurvives(orm, token);
      await assertRefreshRotates(orm);
    });

    it("from issue 14's release, accessTokenRefreshColumnsSql is the whole step; its sessions still validate and refresh sessions rotate", async () => {
      const { orm, token, run, schema } = await previousRelease(kind, "sessions");
      const diff = await orm.schema.getUpdateSchemaSQL();
      expect(diff).toContain("refresh_digest");
      expect(diff).not.toMatch(/handle|claims|drop/);
      for (const sql of accessTokenRefreshColumnsSql(kind, { schema })) await run(sql);
      expect(await orm.schema.getUpdateSchemaSQL()).toBe("");
      await assertSessionSurvives(orm, token);
      await assertRefreshRotates(orm);
    });

    it("from issue 15's release, oauthAccountsTableSql adds exactly the oauth_accounts table of OAuthAccount; links work on it, are unique and go with their user", async () => {
      const entities = [User, AccessToken, OAuthAccount];
      const { orm, token, run, schema } = await previousRelease(kind, "refresh", entities);
      const diff = await orm.schema.getUpdateSchemaSQL();
      expect(diff).toContain("oauth_accounts");
      // Nothing else: no drop, and the access-token table is left as it is.
      expect(diff).not.toMatch(/drop|(alter|create) table \S*access_token/i);
      for (const sql of oauthAccountsTableSql(kind, { schema })) await run(sql);
      expect(await orm.schema.getUpdateSchemaSQL()).toBe("");
      await assertSessionSurvives(orm, token);
      const users = () =>
        new MikroOrmUserDatabase(orm.em.fork(), User, { oauthAccount: OAuthAccount });
      const old = await users().get(USER_ID);
      if (!old) throw new Error("the old user is gone");
      const link = {
        oauthName: "google",
        accountId: "sub-1",
        accountEmail: "old@example.com",
        accessToken: "enc:a",
        expiresAt: 4_102_444_800,
        refreshToken: null,
      };
      const added = await users().addOAuthAccount(old, link);
      expect(added).toEqual({ id: added.id, ...link });
      expect((await users().getByOAuthAccount("google", "sub-1"))?.email).toBe("old@example.com");
      await expect(users().addOAuthAccount(old, link)).rejects.toThrow(/linked/);
      await users().delete(old);
      expect(await orm.em.fork().count(OAuthAccount, {})).toBe(0);
    });

    it("orm.schema.update() adds the oauth_accounts table to a database of issue 15's release as well", async () => {
      const { orm, token } = await previousRelease(kind, "refresh", [
        User,
        AccessToken,
        OAuthAccount,
      ]);
      expect(await orm.schema.getUpdateSchemaSQL()).not.toMatch(
        /drop|(alter|create) table \S*access_token/i,
      );
      await orm.schema.update();
      expect(await orm.schema.getUpdateSchemaSQL()).toBe("");
      await assertSessionSurvives(orm, token);
    });

    it("from issue 16's release, mfaTablesSql adds exactly the tables of MfaTotp, MfaRecoveryCode and Passkey; second factors and passkeys work on them and go with their user", async () => {
      const entities = [User, AccessToken, OAuthAccount, MfaTotp, MfaRecoveryCode, Passkey];
      const { orm, token, run, schema } = await previousRelease(kind, "oauth", entities);
      const diff = await orm.schema.getUpdateSchemaSQL();
      expect(diff).toMatch(/mfa_totp/);
      expect(diff).toMatch(/mfa_recovery_codes/);
      expect(diff).toMatch(/passkeys/);
      // Nothing else: no drop, and the tables of earlier releases are left as they are.
      expect(diff).not.toMatch(
        /drop|(alter|create) table \S*(access_token|oauth_accounts|"user"|`user`)/i,
      );
      for (const sql of mfaTablesSql(kind, { schema })) await run(sql);
      expect(await orm.schema.getUpdateSchemaSQL()).toBe("");
      await assertSessionSurvives(orm, token);
      const mfa = { totp: MfaTotp, recoveryCode: MfaRecoveryCode, passkey: Passkey };
      const users = () => new MikroOrmUserDatabase(orm.em.fork(), User, { mfa });
      const old = await users().get(USER_ID);
      if (!old) throw new Error("the old user is gone");
      await users().setTotp(USER_ID, { secret: "v1.k1.x", confirmedAt: null, lastStep: -1 });
      expect(await users().advanceTotpStep(USER_ID, 59_000_000)).toBe(true);
      expect(await users().advanceTotpStep(USER_ID, 59_000_000)).toBe(false);
      await users().setRecoveryCodes(USER_ID, ["h1", "h2"]);
      expect(await users().useRecoveryCode(USER_ID, "h2", new Date())).toBe(true);
      expect(await users().useRecoveryCode(USER_ID, "h2", new Date())).toBe(false);
      const passkey = {
        id: "cred-upgrade",
        publicKey: "pk",
        counter: 2 ** 32 - 1,
        transports: ["usb"],
        name: "Old laptop",
        backedUp: false,
        createdAt: new Date("2027-01-01T00:00:00.001Z"),
        lastUsedAt: null,
      };
      await users().addPasskey(USER_ID, passkey);
      expect(await users().getPasskey("cred-upgrade")).toEqual({
        userId: USER_ID,
        credential: passkey,
      });
      await expect(users().addPasskey(USER_ID, passkey)).rejects.toThrow(
        PasskeyAlreadyRegisteredError,
      );
      expect((await users().getMfa(USER_ID)).totp?.lastStep).toBe(59_000_000);
      await users().delete(old);
      for (const entity of [MfaTotp, MfaRecoveryCode, Passkey]) {
        expect(await orm.em.fork().count(entity as EntityName<object>, {})).toBe(0);
      }
    });

    it("orm.schema.update() adds the MFA tables to a database of issue 16's release as well", async () => {
      const { orm, token } = await previousRelease(kind, "oauth", [
        User,
        AccessToken,
        OAuthAccount,
        MfaTotp,
        MfaRecoveryCode,
        Passkey,
      ]);
      await orm.schema.update();
      expect(await orm.schema.getUpdateSchemaSQL()).toBe("");
      await assertSessionSurvives(orm, token);
    });

    it.each<Release>(["before-sessions", "sessions"])(
      "orm.schema.update() (what a generated migration holds) upgrades a database of the %s release as well",
      async (release) => {
        const { orm, token } = await previousRelease(kind, release);
        const diff = await orm.schema.getUpdateSchemaSQL();
        expect(diff).not.toMatch(/drop|not null default/i);
        await orm.schema.update();
        expect(await orm.schema.getUpdateSchemaSQL()).toBe("");
        await assertSessionSurvives(orm, token);
        await assertRefreshRotates(orm);
      },
    );
  },
);
