/**
 * Where the access-token table is, for {@link accessTokenSessionColumnsSql} and
 * {@link accessTokenRefreshColumnsSql}.
 */
export interface SessionColumnsTable {
  /** @default "access_token" */
  table?: string;
  /** The PostgreSQL schema of the table. @default none (the search path's) */
  schema?: string;
}

/**
 * The SQL that upgrades an access-token table of an earlier release to the entity's shape:
 * the six nullable session columns of issue 14 and the `handle` index, named as MikroORM
 * names them (so `orm.schema.getUpdateSchemaSQL()` is empty afterwards). Existing rows keep
 * working: a null field reads as no data, no claims, an unknown device, and a row gets its
 * handle the next time its session is read. `migrator.create()` generates the same
 * statements from the entities; this is for migrations written by hand or another tool. The
 * step after it is {@link accessTokenRefreshColumnsSql}.
 *
 * @example
 * export class Migration20261206 extends Migration {
 *   override async up() {
 *     for (const sql of accessTokenSessionColumnsSql("postgresql")) this.addSql(sql);
 *   }
 * }
 */
export function accessTokenSessionColumnsSql(
  dialect: "postgresql" | "sqlite",
  where: SessionColumnsTable = {},
): string[] {
  const { pg, q, table, tableName } = target(dialect, where);
  const columns: [string, string, string][] = [
    ["handle", "varchar(64)", "text"],
    ["last_used_at", "timestamptz", "datetime"],
    ["ip_address", "varchar(64)", "text"],
    ["user_agent", "varchar(512)", "text"],
    ["data", "jsonb", "json"],
    ["claims", "jsonb", "json"],
  ];
  const index = `create index ${q(`${tableName}_handle_index`)} on ${table} (${q("handle")});`;
  if (pg) {
    const adds = columns.map(([name, type]) => `add column ${q(name)} ${type} null`).join(", ");
    return [`alter table ${table} ${adds};`, index];
  }
  // SQLite adds one column per statement.
  return [
    ...columns.map(([name, , type]) => `alter table ${table} add column ${q(name)} ${type} null;`),
    index,
  ];
}

/**
 * The SQL of the step after {@link accessTokenSessionColumnsSql} (issue 15): the two
 * nullable refresh-token columns `refresh_digest` and `refresh_parent_digest`, typed as
 * MikroORM types them (so `orm.schema.getUpdateSchemaSQL()` is empty afterwards). No index:
 * a refresh session is found by its key (`token`, the primary key). Every existing row
 * keeps working (null: no refresh token), and only refresh sessions ever set them.
 *
 * @example
 * export class Migration20261215 extends Migration {
 *   override async up() {
 *     for (const sql of accessTokenRefreshColumnsSql("postgresql")) this.addSql(sql);
 *   }
 * }
 */
export function accessTokenRefreshColumnsSql(
  dialect: "postgresql" | "sqlite",
  where: SessionColumnsTable = {},
): string[] {
  const { pg, q, table } = target(dialect, where);
  const columns = ["refresh_digest", "refresh_parent_digest"];
  if (pg) {
    const adds = columns.map((name) => `add column ${q(name)} varchar(64) null`).join(", ");
    return [`alter table ${table} ${adds};`];
  }
  return columns.map((name) => `alter table ${table} add column ${q(name)} text null;`);
}

/** The quoting and the qualified table name of a migration step. */
export function target(dialect: "postgresql" | "sqlite", where: SessionColumnsTable) {
  const tableName = where.table ?? "access_token";
  const pg = dialect === "postgresql";
  const q = (name: string) =>
    pg ? `"${name.replaceAll('"', '""')}"` : `\`${name.replaceAll("`", "``")}\``;
  const table = pg && where.schema ? `${q(where.schema)}.${q(tableName)}` : q(tableName);
  return { pg, q, table, tableName };
}
