import type {
  AccessTokenDatabase,
  AccessTokenProtocol,
  AccessTokenWithUserReader,
  IdParser,
  MfaDatabase,
  UserDatabase,
  UserProtocol,
} from "@tessera/core";
import type { Context, Middleware } from "koa";

/** The app's user: Tessera's fields, with string ids (UUIDs on SQL, ObjectIds on MongoDB). */
export type User = UserProtocol<string>;

/** An access-token database the database strategy can read in one round trip and list. */
export type AccessTokens = AccessTokenDatabase<AccessTokenProtocol<string>, string> &
  Partial<AccessTokenWithUserReader<AccessTokenProtocol<string>, User, string>>;

/**
 * Where users and access tokens live, whatever the database: the rest of the app sees
 * only this. One file per database builds it (sqlite.ts, postgres.ts, mongo.ts).
 */
export interface Store {
  readonly kind: "sqlite" | "postgresql" | "mongodb";
  /** Parses user ids from URLs (`/users/{id}`) and token claims. */
  readonly idParser: IdParser<string>;
  /** Koa middleware giving each request its own unit of work (a forked EntityManager). */
  readonly scope: Middleware;
  /**
   * The users of a request (`ctx`), or of a start-up task (no `ctx`); they also keep the
   * users' second factors and passkeys.
   */
  users(ctx?: Context): UserDatabase<User, string> & MfaDatabase<string>;
  /** The access tokens of a request (`ctx`), or of a scheduled task (no `ctx`). */
  tokens(ctx?: Context): AccessTokens;
  /**
   * One cheap round trip to the database (`select 1` on SQL, `{ping: 1}` on MongoDB),
   * for `GET /healthz`: resolves when it answers, rejects when it does not.
   */
  ping(): Promise<void>;
  close(): Promise<void>;
}
