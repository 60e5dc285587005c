import { target } from "./session-columns.js";

/** Where the MFA tables go and what they point at, for {@link mfaTablesSql}. */
export interface MfaTablesTarget {
  /** @default "mfa_totp" */
  totpTable?: string;
  /** @default "mfa_recovery_codes" */
  recoveryCodeTable?: string;
  /** @default "passkeys" */
  passkeyTable?: string;
  /** The PostgreSQL schema of all four tables. @default none (the search path's) */
  schema?: string;
  /** The user table the `user_id` foreign keys reference (its key column is `id`). @default "user" */
  userTable?: string;
  /**
   * The column type of the user's `id`, which `user_id` copies: `uuid` for `User` on
   * PostgreSQL (`text` on SQLite); `int` / `integer` for an autoincrement id.
   * @default "uuid" on PostgreSQL, "text" on SQLite
   */
  userIdType?: string;
}

/**
 * The SQL that adds second factors and passkeys (issue 17) to a database of an earlier
 * release: the tables of `MfaTotp` (`mfa_totp`: `user_id` the primary key), `MfaRecoveryCode`
 * (`mfa_recovery_codes`: an autoincrement id, unique `(user_id, hash)`) and `Passkey`
 * (`passkeys`: the credential id as primary key `id`, `user_id` indexed), every `user_id` a
 * foreign key with `ON DELETE CASCADE`, named and typed as MikroORM names and types them (so
 * `orm.schema.getUpdateSchemaSQL()` is empty afterwards). Nothing existing changes. It comes
 * after `oauthAccountsTableSql`; `migrator.create()` generates the same from the entities,
 * this is for migrations written by hand or another tool.
 *
 * @example
 * export class Migration20270201 extends Migration {
 *   override async up() {
 *     for (const sql of mfaTablesSql("postgresql")) this.addSql(sql);
 *   }
 * }
 */
export function mfaTablesSql(
  dialect: "postgresql" | "sqlite",
  where: MfaTablesTarget = {},
): string[] {
  const schema = where.schema === undefined ? {} : { schema: where.schema };
  const at = (table: string) => target(dialect, { table, ...schema });
  const totp = at(where.totpTable ?? "mfa_totp");
  const codes = at(where.recoveryCodeTable ?? "mfa_recovery_codes");
  const keys = at(where.passkeyTable ?? "passkeys");
  const users = at(where.userTable ?? "user").table;
  const { pg, q } = totp;
  const userIdType = where.userIdType ?? (pg ? "uuid" : "text");
  const name = (t: { tableName: string }, suffix: string) => q(`${t.tableName}_${suffix}`);
  const fk = (t: { tableName: string }, onUpdate = false) =>
    `constraint ${name(t, "user_id_foreign")} foreign key (${q("user_id")}) references ${users} (${q("id")})${onUpdate ? " on update cascade" : ""} on delete cascade`;
  if (pg) {
    const addFk = (t: { table: string; tableName: string }, onUpdate = false) =>
      `alter table ${t.table} add ${fk(t, onUpdate)};`;
    return [
      `create table ${totp.table} (${q("user_id")} ${userIdType} not null, ${q("secret")} text not null, ${q("confirmed_at")} timestamptz null, ${q("last_step")} bigint not null, primary key (${q("user_id")}));`,
      `create table ${codes.table} (${q("id")} serial primary key, ${q("hash")} text not null, ${q("used_at")} timestamptz null, ${q("user_id")} ${userIdType} not null);`,
      `create index ${name(codes, "user_id_index")} on ${codes.table} (${q("user_id")});`,
      `alter table ${codes.table} add constraint ${name(codes, "user_id_hash_unique")} unique (${q("user_id")}, ${q("hash")});`,
      `create table ${keys.table} (${q("id")} text not null, ${q("public_key")} text not null, ${q("counter")} bigint not null, ${q("transports")} jsonb not null, ${q("name")} varchar(255) not null, ${q("backed_up")} boolean not null, ${q("created_at")} timestamptz not null, ${q("last_used_at")} timestamptz null, ${q("user_id")} ${userIdType} not null, primary key (${q("id")}));`,
      `create index ${name(keys, "user_id_index")} on ${keys.table} (${q("user_id")});`,
      // MikroORM makes a foreign key that is the primary key `on update cascade` too.
      addFk(totp, true),
      addFk(codes),
      addFk(keys),
    ];
  }
  return [
    `create table ${totp.table} (${q("user_id")} ${userIdType} not null primary key, ${q("secret")} text not null, ${q("confirmed_at")} datetime null, ${q("last_step")} bigint not null, ${fk(totp, true)});`,
    `create index ${name(totp, "user_id_index")} on ${totp.table} (${q("user_id")});`,
    `create table ${codes.table} (${q("id")} integer not null primary key autoincrement, ${q("hash")} text not null, ${q("used_at")} datetime null, ${q("user_id")} ${userIdType} not null, ${fk(codes)});`,
    `create index ${name(codes, "user_id_index")} on ${codes.table} (${q("user_id")});`,
    `create unique index ${name(codes, "user_id_hash_unique")} on ${codes.table} (${q("user_id")}, ${q("hash")});`,
    `create table ${keys.table} (${q("id")} text not null primary key, ${q("public_key")} text not null, ${q("counter")} bigint not null, ${q("transports")} json not null, ${q("name")} text not null, ${q("backed_up")} integer not null, ${q("created_at")} datetime not null, ${q("last_used_at")} datetime null, ${q("user_id")} ${userIdType} not null, ${fk(keys)});`,
    `create index ${name(keys, "user_id_index")} on ${keys.table} (${q("user_id")});`,
  ];
}
