import { StrategyDestroyNotSupportedError } from "./errors.js";
import type { UserProtocol } from "./models.js";
import type { Strategy } from "./strategy/base.js";
import type { AuthResponse, Transport } from "./transport/base.js";

/** Options of {@link AuthenticationBackend}. */
export interface AuthenticationBackendOptions<U extends UserProtocol<ID>, ID, Ctx> {
  /** Unique name; used in routes and in `ctx.state.auth.backend`. */
  name: string;
  transport: Transport;
  /**
   * Request-scoped strategy factory: called once per request that needs it, so a
   * strategy can take a per-request dependency (a forked EntityManager, a session).
   */
  getStrategy: (ctx: Ctx) => Strategy<U, ID> | Promise<Strategy<U, ID>>;
}

/**
 * A transport plus a strategy: how a token travels and what it is.
 *
 * @example
 * const jwtBackend = new AuthenticationBackend({
 *   name: "jwt",
 *   transport: new BearerTransport({ tokenUrl: "auth/jwt/login" }),
 *   getStrategy: () => jwtStrategy,
 * });
 */
export class AuthenticationBackend<U extends UserProtocol<ID>, ID = U["id"], Ctx = unknown> {
  readonly name: string;
  readonly transport: Transport;
  readonly getStrategy: (ctx: Ctx) => Strategy<U, ID> | Promise<Strategy<U, ID>>;

  constructor(options: AuthenticationBackendOptions<U, ID, Ctx>) {
    this.name = options.name;
    this.transport = options.transport;
    this.getStrategy = options.getStrategy;
  }

  /** Issues a token for `user` and answers with the transport's login response. */
  async login(strategy: Strategy<U, ID>, user: U): Promise<AuthResponse> {
    return this.transport.loginResponse(await strategy.writeToken(user));
  }

  /** Destroys `token` when the strategy can; always answers with the logout response. */
  async logout(strategy: Strategy<U, ID>, user: U, token: string): Promise<AuthResponse> {
    try {
      await strategy.destroyToken(token, user);
    } catch (error) {
      if (!(error instanceof StrategyDestroyNotSupportedError)) throw error;
    }
    return this.transport.logoutResponse();
  }

  /** Destroys every token of `user` for this backend's strategy, then answers like logout. */
  async logoutAll(strategy: Strategy<U, ID>, user: U): Promise<AuthResponse> {
    await strategy.destroyAllTokens(user);
    return this.transport.logoutResponse();
  }
}
