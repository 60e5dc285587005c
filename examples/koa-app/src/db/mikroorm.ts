import type { EntityManager, MikroORM } from "@mikro-orm/core";
import { uuidIdParser } from "@tessera/core";
import {
  AccessToken,
  MfaRecoveryCode,
  MfaTotp,
  MikroOrmAccessTokenDatabase,
  MikroOrmUserDatabase,
  OAuthAccount,
  Passkey,
  User,
  withRequestEntityManager,
} from "@tessera/db-mikroorm";
import type { Context } from "koa";
import type { Store } from "./store.js";

/**
 * The entities of the SQL stores: Tessera's `User` (UUID ids), `AccessToken`,
 * `OAuthAccount` (the `oauth_accounts` table: the users' "Sign in with …" links), and the
 * second factors and passkeys (`mfa_totp`, `mfa_recovery_codes`, `passkeys`).
 */
export const entities = [User, AccessToken, OAuthAccount, MfaTotp, MfaRecoveryCode, Passkey];

/** The MFA entities given to the user database: it then keeps factors, codes and passkeys. */
const mfa = { totp: MfaTotp, recoveryCode: MfaRecoveryCode, passkey: Passkey };

/**
 * A {@link Store} on a MikroORM SQL database (SQLite, PostgreSQL). Creates the tables on
 * the first start and adds what is missing on later ones; `safe` never drops a table or a
 * column, so pointing the app at a database that holds other tables is harmless. In
 * production, prefer migrations (see docs/packages/db-mikroorm.md).
 */
export async function mikroOrmStore(orm: MikroORM, kind: "sqlite" | "postgresql"): Promise<Store> {
  await orm.schema.ensureDatabase();
  await orm.schema.update({ safe: true });
  const em = (ctx?: Context): EntityManager =>
    (ctx?.state.em as EntityManager | undefined) ?? orm.em.fork();
  return {
    kind,
    idParser: uuidIdParser,
    scope: (ctx, next) =>
      withRequestEntityManager(orm.em, (fork) => {
        ctx.state.em = fork;
        return next();
      }),
    // With the OAuth account entity, the user database keeps the users' provider links;
    // with the MFA entities, their TOTP factor, recovery codes and passkeys.
    users: (ctx) => new MikroOrmUserDatabase(em(ctx), User, { oauthAccount: OAuthAccount, mfa }),
    tokens: (ctx) => new MikroOrmAccessTokenDatabase(em(ctx), AccessToken),
    ping: async () => {
      await orm.em.getConnection().execute("select 1");
    },
    close: () => orm.close(),
  };
}

/**
 * Whether `error` is the loser's side of instances racing to create one database or its
 * tables: started at once on an empty PostgreSQL database, all try, and the slower ones
 * fail on a catalog unique index (`pg_database_datname_index`,
 * `pg_type_typname_nsp_index`). Opening again finds what the winner made.
 */
export function isSchemaRace(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // 23505 unique violation, 42P04 duplicate database, 42P07 duplicate table,
  // 42710 duplicate object.
  return ["23505", "42P04", "42P07", "42710"].includes(String(code));
}
