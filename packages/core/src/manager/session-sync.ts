import { StrategyDestroyNotSupportedError } from "../errors.js";
import type { UserProtocol, UserUpdateData } from "../models.js";
import type { Strategy, UserChange } from "../strategy/base.js";

/**
 * A backend as the user manager sees it: something that yields a strategy for a
 * context. `AuthenticationBackend` fits, whatever its context type.
 */
export interface StrategySource<U extends UserProtocol<ID>, ID> {
  readonly name: string;
  getStrategy(ctx: never): Strategy<U, ID> | Promise<Strategy<U, ID>>;
}

/**
 * What an update means for sessions: a new password or a deactivation ends them all
 * (ASVS 5.0 7.4.2, 7.4.3); any other change only refreshes what strategies cache.
 */
export function describeChange<U extends UserProtocol<unknown>>(
  before: U,
  data: UserUpdateData,
): UserChange {
  const fields = Object.keys(data);
  if (data.hashedPassword !== undefined) return { kind: "password", fields, revokeSessions: true };
  if (data.isActive === false && before.isActive)
    return { kind: "deactivate", fields, revokeSessions: true };
  return { kind: "update", fields, revokeSessions: false };
}

/**
 * Tells every configured strategy (once each, even when backends share one) that a
 * user changed. A strategy without `onUserChanged` gets `destroyAllTokens` when the
 * change revokes sessions; one that cannot destroy tokens (a JWT without a revocation
 * store) is skipped — its tokens end at their `exp`.
 */
export async function notifyStrategies<U extends UserProtocol<ID>, ID>(
  sources: readonly StrategySource<U, ID>[],
  user: U,
  change: UserChange,
  context: unknown,
): Promise<void> {
  const seen = new Set<Strategy<U, ID>>();
  for (const source of sources) {
    const strategy = await source.getStrategy(context as never);
    if (seen.has(strategy)) continue;
    seen.add(strategy);
    if (strategy.onUserChanged) {
      await strategy.onUserChanged(user, change);
    } else if (change.revokeSessions) {
      try {
        await strategy.destroyAllTokens(
          user,
          change.exceptToken === undefined
            ? undefined
            : {
                exceptToken: change.exceptToken,
                ...(change.exceptHandle === undefined ? {} : { exceptHandle: change.exceptHandle }),
              },
        );
      } catch (error) {
        if (!(error instanceof StrategyDestroyNotSupportedError)) throw error;
      }
    }
  }
}
