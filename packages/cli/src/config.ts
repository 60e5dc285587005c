import type { PasswordPolicyOptions, UserManager, UserProtocol } from "@tessera/core";

/**
 * One place sessions live, as `tessera` sees it: `sessions revoke` and `users deactivate`
 * call {@link revokeUser}, `sessions purge-expired` calls {@link deleteExpired}.
 */
export interface CliSessionStore<U> {
  /** Ends every session of `user` in this store. */
  revokeUser(user: U): Promise<void>;
  /** Deletes the expired sessions and returns how many; absent when the store expires them itself. */
  deleteExpired?(): Promise<number>;
  /** Shown by `sessions purge-expired` when {@link deleteExpired} is absent: why nothing is to be done. */
  expiresItself?: string;
}

/** The schema of an app's database, as `tessera migrate` sees it. */
export interface CliSchema {
  /** Where it lives, for messages (no password): "PostgreSQL postgres://…". */
  readonly description?: string;
  /** The steps not applied yet (SQL statements, index names, migration names): empty when up to date. */
  pending(): Promise<string[]>;
  /** Applies the pending steps and returns them (empty when there was nothing to do). */
  up(): Promise<string[]>;
}

/**
 * The app's databases, opened by a config's {@link TesseraCliConfig.connect} (or by
 * `tessera` itself from `DATABASE_URL`, `MONGODB_URL`, `REDIS_URL`).
 */
export interface TesseraCliConnection<U extends UserProtocol<ID>, ID = U["id"]> {
  /**
   * The app's users, through its own user manager: `users create-superuser` checks the
   * password with its `validatePassword` (the app's password policy) and creates the user
   * with `create`; `users deactivate` calls `update`.
   */
  userManager: UserManager<U, ID>;
  /**
   * Where the app's sessions live, by name (`database`, `redis`, `jwt-revocation`…):
   * `sessions revoke` and `users deactivate` end the user's sessions in each one.
   * @default none
   */
  sessions?: Record<string, CliSessionStore<U>>;
  /** What `tessera migrate` applies. @default none (migrate then says so and fails) */
  schema?: CliSchema;
  /** Closes every connection it opened. */
  close(): Promise<void>;
}

/**
 * What `tessera` builds from the environment when no config module is given; a config's
 * `connect` may call it ({@link CliConnectContext.fromEnvironment}) with other values.
 */
export interface EnvironmentConnectionOptions {
  /** `postgres://…`, `sqlite:FILE` or `mongodb://…`. @default env.DATABASE_URL */
  databaseUrl?: string | undefined;
  /** `mongodb://host/db`. @default env.MONGODB_URL */
  mongodbUrl?: string | undefined;
  /**
   * `redis://…`: sessions of the Redis strategy and the JWT revocation store are ended
   * there too. @default env.REDIS_URL
   */
  redisUrl?: string | undefined;
  /**
   * The app's password rules, which `users create-superuser` applies.
   * @default `{ rejectCommonPasswords: true }` (the example app's)
   */
  passwordPolicy?: PasswordPolicyOptions;
  /**
   * The longest access JWT lifetime of the app, in seconds: a log-out-everywhere written
   * to the JWT revocation store is kept this long. @default 86400
   */
  jwtMaxLifetimeSeconds?: number;
}

/** What a config's {@link TesseraCliConfig.connect} is given. */
export interface CliConnectContext {
  /** The process environment. */
  env: NodeJS.ProcessEnv;
  /**
   * `tessera`'s own connection (Tessera's entities and collections, as in the example app),
   * with these options instead of the environment's.
   */
  fromEnvironment(
    options?: EnvironmentConnectionOptions,
  ): Promise<TesseraCliConnection<UserProtocol<string>, string>>;
  /** What the command will do: `migrate` connects to create a missing database. */
  command: string;
}

/**
 * A `tessera.config.(js|mjs|ts)` module's default export: how `tessera --config` reaches
 * the app's databases with the app's own adapters (custom user entities, other
 * collections, its own password rule).
 */
export interface TesseraCliConfig<U extends UserProtocol<ID>, ID = U["id"]> {
  /** Opens the connections; called once per command, closed with `close()` after it. */
  connect(context: CliConnectContext): Promise<TesseraCliConnection<U, ID>>;
}

/**
 * Types a `tessera.config.*` module's default export; returns it unchanged.
 *
 * @example
 * // tessera.config.ts
 * import { defineConfig, mikroOrmSchema, strategySessions } from "@tessera/cli";
 * export default defineConfig({
 *   async connect() {
 *     const orm = await MikroORM.init(ormOptions);
 *     const userManager = new UserManager({ userDb: new MikroOrmUserDatabase(orm.em.fork(), MyUser), ... });
 *     const tokens = new MikroOrmAccessTokenDatabase(orm.em.fork(), AccessToken);
 *     return {
 *       userManager,
 *       sessions: { database: strategySessions(new DatabaseStrategy({ database: tokens })) },
 *       schema: mikroOrmSchema(orm),
 *       close: () => orm.close(),
 *     };
 *   },
 * });
 */
export function defineConfig<U extends UserProtocol<ID>, ID = U["id"]>(
  config: TesseraCliConfig<U, ID>,
): TesseraCliConfig<U, ID> {
  return config;
}
