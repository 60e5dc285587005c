import type { UserProtocol } from "@tessera/core";

/**
 * Which of a user's fields a session keeps, so that authenticating a request reads
 * Redis only. `true` keeps every own enumerable field; a function picks them (and
 * turns non-JSON values, such as `Date` or class instances, into JSON ones). Either
 * way `hashedPassword` is never stored, `id` is kept apart, and the protocol fields
 * `email`, `isActive`, `isSuperuser`, `isVerified` are always kept. A function may be
 * given a user rebuilt from a snapshot (an update of the session's own user), so it must
 * accept its own output.
 *
 * @default false (every request reads the user from the database)
 * @example
 * new RedisStrategy({ redis, snapshot: (user) => ({ displayName: user.displayName }) });
 */
export type UserSnapshotOption<U> = boolean | ((user: U) => Record<string, unknown>);

// Snapshot users as handed out by readToken are of this class: the mark adds no field, and
// costs less than a WeakSet entry per request (~0.15 µs, and weak-table work for the GC).
class SnapshotUser {}

/**
 * True when `user` was rebuilt from a session snapshot rather than read from the
 * database: its `hashedPassword` is `""` and it may be a plain object where the
 * database adapter hands out entities. Load the user (`userManager.get(user.id)`) before
 * checking a password or passing it to code that needs the stored record.
 *
 * @example
 * const fresh = isUserSnapshot(ctx.state.user) ? await userManager.get(ctx.state.user.id) : ctx.state.user;
 */
export function isUserSnapshot(user: object): boolean {
  return user instanceof SnapshotUser;
}

// Never copied into a snapshot: the hash, and keys that would touch a prototype.
const DROPPED = new Set(["id", "hashedPassword", "__proto__", "constructor", "prototype"]);

/** The JSON a session stores for `user`, by the strategy's snapshot option. */
export function encodeSnapshot<U extends UserProtocol<ID>, ID>(
  user: U,
  option: Exclude<UserSnapshotOption<U>, false>,
): string {
  const picked = option === true ? { ...user } : option(user);
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(picked)) {
    if (!DROPPED.has(key) && value !== undefined) data[key] = value;
  }
  // The authenticator decides on these; a projection cannot leave them out or fake them.
  data.email = user.email;
  data.isActive = user.isActive;
  data.isSuperuser = user.isSuperuser;
  data.isVerified = user.isVerified;
  return JSON.stringify(data);
}

/**
 * The user a stored snapshot describes, with `id` from the session and `hashedPassword`
 * blank; null when the snapshot is not one this package wrote (the caller then reads the
 * database instead).
 */
export function decodeSnapshot<U extends UserProtocol<ID>, ID>(json: string, id: ID): U | null {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) return null;
  const fields = data as Record<string, unknown>;
  if (
    typeof fields.email !== "string" ||
    typeof fields.isActive !== "boolean" ||
    typeof fields.isSuperuser !== "boolean" ||
    typeof fields.isVerified !== "boolean"
  ) {
    return null;
  }
  // Never ours: `Object.assign` below would take an own "__proto__" as the prototype.
  if (Object.hasOwn(fields, "__proto__")) return null;
  const user = Object.assign(new SnapshotUser(), fields) as Record<string, unknown>;
  user.id = id;
  user.hashedPassword = "";
  return user as unknown as U;
}
