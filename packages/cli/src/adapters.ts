import type { CliSchema, CliSessionStore } from "./config.js";

/**
 * A strategy (or anything with `destroyAllTokens`) as a {@link CliSessionStore}:
 * `DatabaseStrategy` (its `deleteExpired` purges), `RedisStrategy` (Redis expires its
 * sessions itself), `JWTStrategy` with a revocation store.
 *
 * @example
 * sessions: {
 *   database: strategySessions(new DatabaseStrategy({ database: tokens })),
 *   redis: strategySessions(new RedisStrategy({ redis }), "Redis expires sessions by itself"),
 * }
 */
export function strategySessions<U>(
  strategy: {
    destroyAllTokens(user: U): Promise<void>;
    deleteExpired?: (now?: Date) => Promise<number>;
  },
  expiresItself?: string,
): CliSessionStore<U> {
  const store: CliSessionStore<U> = { revokeUser: (user) => strategy.destroyAllTokens(user) };
  if (typeof strategy.deleteExpired === "function") {
    const deleteExpired = strategy.deleteExpired.bind(strategy);
    store.deleteExpired = () => deleteExpired();
  } else {
    store.expiresItself = expiresItself ?? "expired sessions are removed by the store itself";
  }
  return store;
}

/** The part of MikroORM's SQL schema generator {@link mikroOrmSchema} uses. */
interface SqlSchemaGenerator {
  ensureDatabase(): Promise<boolean>;
  getUpdateSchemaSQL(options: { safe: boolean; wrap: boolean }): Promise<string>;
  update(options: { safe: boolean }): Promise<void>;
}

/**
 * The schema of a MikroORM SQL database (PostgreSQL, SQLite) as its entities describe it,
 * by MikroORM's schema diff in safe mode: `pending` lists the statements that would create
 * what is missing (tables, columns, indexes, foreign keys), `up` creates the database when
 * it does not exist and runs them. Safe mode never drops a table or a column, so a
 * database holding the app's other tables is left alone; a second `up` finds nothing to do.
 *
 * Apps that keep MikroORM migrations give their own {@link CliSchema} instead:
 * `{ pending: async () => (await orm.migrator.getPending()).map((m) => m.name),
 *    up: async () => (await orm.migrator.up()).map((m) => m.name) }`.
 *
 * @example
 * schema: mikroOrmSchema(orm, "PostgreSQL app"),
 */
export function mikroOrmSchema(orm: { schema: unknown }, description?: string): CliSchema {
  const generator = () => orm.schema as SqlSchemaGenerator;
  const pending = async () =>
    (await generator().getUpdateSchemaSQL({ safe: true, wrap: false }))
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "");
  return {
    ...(description === undefined ? {} : { description }),
    pending,
    async up() {
      for (let attempt = 1; ; attempt++) {
        await generator().ensureDatabase();
        const steps = await pending();
        if (steps.length === 0) return steps;
        try {
          await generator().update({ safe: true });
          return steps;
        } catch (error) {
          // Another `migrate` (or an app starting) created the same table or index at the
          // same moment: diff again, what it made is no longer pending.
          if (!isSchemaRace(error) || attempt >= 3) throw error;
        }
      }
    },
  };
}

/**
 * Whether `error` is PostgreSQL refusing to create what a concurrent run just created:
 * 23505 unique violation (on a catalog index), 42P04 duplicate database, 42P07 duplicate
 * table, 42710 duplicate object.
 */
function isSchemaRace(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return ["23505", "42P04", "42P07", "42710"].includes(String(code));
}
