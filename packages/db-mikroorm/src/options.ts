import type { EntityTarget } from "./types.js";

/**
 * Options of {@link MikroOrmUserDatabase} and {@link MikroOrmAccessTokenDatabase}: how their
 * per-request reads run on SQL drivers. MongoDB ignores them (its reads always go through
 * MikroORM's `MongoConnection`).
 *
 * @example
 * // Behind PgBouncer in transaction mode (before 1.21): keep the fast path, unnamed statements.
 * const users = new MikroOrmUserDatabase(em, User, { preparedStatements: false });
 * // Plain MikroORM for every read (em.findOne / em.find):
 * const tokens = new MikroOrmAccessTokenDatabase(em, AccessToken, { fastPath: false });
 */
export interface MikroOrmAdapterOptions {
  /**
   * Run the reads of every authenticated request (a user by id or email, a token with its
   * user) on the fast path: SQL built once per entity and sent on MikroORM's own `pg` pool
   * (lookups of one event-loop turn batched into one statement), or run synchronously on
   * {@link TesseraSqliteDialect}'s cached statements. It steps aside (a plain MikroORM read)
   * inside a transaction, with a session context or an `onQuery` rewrite, on any other
   * driver or dialect. `false`: every read is plain MikroORM (`em.findOne`, `em.find`, a
   * joined `populate`), with the same answers at a higher cost per request.
   * See docs/packages/db-mikroorm.md, "Fast path".
   * @default true
   */
  fastPath?: boolean;
  /**
   * On the PostgreSQL fast path, send the reads as named prepared statements, parsed and
   * planned once per connection. Set `false` behind a pooler that cannot keep them across
   * transactions (PgBouncer in transaction mode before 1.21): the same SQL then goes as
   * unnamed statements, still with bind parameters. Ignored without the fast path.
   * @default true
   */
  preparedStatements?: boolean;
}

/**
 * Options of {@link MikroOrmUserDatabase}: the adapter options, and the entity of its OAuth
 * account links.
 *
 * @example
 * const users = new MikroOrmUserDatabase(em, User, { oauthAccount: OAuthAccount });
 */
export interface MikroOrmUserDatabaseOptions extends MikroOrmAdapterOptions {
  /**
   * The OAuth account entity (`OAuthAccount`, `MongoOAuthAccount`, or the app's own built on
   * `OAuthAccountBase` with a `user` relation to this user entity): with it the database
   * implements `OAuthAccountDatabase`; without it, it has none of its methods.
   */
  oauthAccount?: EntityTarget;
  /**
   * The entities of second factors and passkeys (issue 17): with them the database
   * implements `MfaDatabase`; without them, it has none of its methods.
   */
  mfa?: MikroOrmMfaEntities;
}

/**
 * The three entities of `MfaDatabase`, each with a `user` relation to the user entity (see
 * `mfaUser`): `MfaTotp`, `MfaRecoveryCode`, `Passkey` on SQL; `MongoMfaTotp`,
 * `MongoMfaRecoveryCode`, `MongoPasskey` on MongoDB; or the app's own built on
 * `MfaTotpBase`, `MfaRecoveryCodeBase`, `PasskeyBase`.
 *
 * @example
 * new MikroOrmUserDatabase(em, User, {
 *   mfa: { totp: MfaTotp, recoveryCode: MfaRecoveryCode, passkey: Passkey },
 * });
 */
export interface MikroOrmMfaEntities {
  /** One row per user with a TOTP factor (built on `MfaTotpBase`). */
  totp: EntityTarget;
  /** One row per recovery code (built on `MfaRecoveryCodeBase`, ids in insert order). */
  recoveryCode: EntityTarget;
  /** One row per passkey, keyed by credential id (built on `PasskeyBase`). */
  passkey: EntityTarget;
}

/** {@link MikroOrmAdapterOptions} with every default applied. */
export type AdapterSettings = Readonly<Required<MikroOrmAdapterOptions>>;

const DEFAULTS: AdapterSettings = { fastPath: true, preparedStatements: true };

/** The options with their defaults, one frozen object per combination. */
export function settingsOf(options: MikroOrmAdapterOptions = {}): AdapterSettings {
  if (options.fastPath === undefined && options.preparedStatements === undefined) return DEFAULTS;
  return Object.freeze({
    fastPath: options.fastPath ?? DEFAULTS.fastPath,
    preparedStatements: options.preparedStatements ?? DEFAULTS.preparedStatements,
  });
}
