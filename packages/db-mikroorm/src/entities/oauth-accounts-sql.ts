import { target } from "./session-columns.js";

/** Where the OAuth account table goes and what it points at, for {@link oauthAccountsTableSql}. */
export interface OAuthAccountsTable {
  /** @default "oauth_accounts" */
  table?: string;
  /** The PostgreSQL schema of both tables. @default none (the search path's) */
  schema?: string;
  /** The user table the `user_id` foreign key references (its key column is `id`). @default "user" */
  userTable?: string;
  /**
   * The column type of the user's `id`, which `user_id` copies: `uuid` for `User` on
   * PostgreSQL (`text` on SQLite); `int` / `integer` for an autoincrement id.
   * @default "uuid" on PostgreSQL, "text" on SQLite
   */
  userIdType?: string;
}

/**
 * The SQL that adds OAuth accounts (issue 16) to a database of an earlier release: the
 * `oauth_accounts` table of `OAuthAccount` (an autoincrement id, the six fields, a
 * `user_id` foreign key with `ON DELETE CASCADE`), its unique `(oauth_name, account_id)` index
 * and its `user_id` index, named and typed as MikroORM names and types them (so
 * `orm.schema.getUpdateSchemaSQL()` is empty afterwards). Nothing existing changes. It comes
 * after `accessTokenRefreshColumnsSql`; `migrator.create()` generates the same from the
 * entities, this is for migrations written by hand or another tool.
 *
 * @example
 * export class Migration20270110 extends Migration {
 *   override async up() {
 *     for (const sql of oauthAccountsTableSql("postgresql")) this.addSql(sql);
 *   }
 * }
 */
export function oauthAccountsTableSql(
  dialect: "postgresql" | "sqlite",
  where: OAuthAccountsTable = {},
): string[] {
  const { pg, q, table, tableName } = target(dialect, {
    table: where.table ?? "oauth_accounts",
    ...(where.schema === undefined ? {} : { schema: where.schema }),
  });
  const users = target(dialect, {
    table: where.userTable ?? "user",
    ...(where.schema === undefined ? {} : { schema: where.schema }),
  }).table;
  const userIdType = where.userIdType ?? (pg ? "uuid" : "text");
  const name = (suffix: string) => q(`${tableName}_${suffix}`);
  if (pg) {
    return [
      `create table ${table} (${q("id")} serial primary key, ${q("oauth_name")} varchar(100) not null, ${q("account_id")} varchar(320) not null, ${q("account_email")} varchar(320) not null, ${q("access_token")} text not null, ${q("expires_at")} bigint null, ${q("refresh_token")} text null, ${q("user_id")} ${userIdType} not null);`,
      `create index ${name("user_id_index")} on ${table} (${q("user_id")});`,
      `alter table ${table} add constraint ${name("oauth_name_account_id_unique")} unique (${q("oauth_name")}, ${q("account_id")});`,
      `alter table ${table} add constraint ${name("user_id_foreign")} foreign key (${q("user_id")}) references ${users} (${q("id")}) on delete cascade;`,
    ];
  }
  return [
    `create table ${table} (${q("id")} integer not null primary key autoincrement, ${q("oauth_name")} text not null, ${q("account_id")} text not null, ${q("account_email")} text not null, ${q("access_token")} text not null, ${q("expires_at")} bigint null, ${q("refresh_token")} text null, ${q("user_id")} ${userIdType} not null, constraint ${name("user_id_foreign")} foreign key (${q("user_id")}) references ${users} (${q("id")}) on delete cascade);`,
    `create index ${name("user_id_index")} on ${table} (${q("user_id")});`,
    `create unique index ${name("oauth_name_account_id_unique")} on ${table} (${q("oauth_name")}, ${q("account_id")});`,
  ];
}
