import type { Authenticator, UserManager, UserProtocol } from "@tessera/core";
import type { Context } from "koa";

/** What every router needs from the {@link Tessera} instance. */
export interface RouterDeps<U extends UserProtocol<ID>, ID> {
  getUserManager: (ctx: Context) => UserManager<U, ID> | Promise<UserManager<U, ID>>;
  authenticator: Authenticator<U, ID, Context>;
  bodyLimit: number;
  read: (user: U) => Record<string, unknown>;
}

/** Options every router factory takes. */
export interface RouterOptions {
  /** Path prefix of the router's routes, e.g. `"/auth/jwt"`. @default "" */
  prefix?: string;
}
