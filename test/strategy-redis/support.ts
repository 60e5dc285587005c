// Shared fixtures of the RedisStrategy tests: both Redis topologies from the harness, a user
// manager over the in-memory user store, a fake clock, and counters of round trips.
import { randomBytes } from "node:crypto";
import { hashToken, UserManager } from "@tessera/core";
import { sessionIdFromDigest } from "@tessera/core/internal";
import { type MemoryUser, MemoryUserDatabase } from "@tessera/core/testing";
// The test workspace package does not depend on @tessera/strategy-redis (yet): import sources.
import {
  type RedisClient,
  RedisSessionStore,
  type RedisSessionStoreOptions,
  RedisStrategy,
  type RedisStrategyOptions,
  recommendedClusterOptions,
  recommendedRedisOptions,
} from "@tessera/strategy-redis";
import { Cluster, Redis } from "ioredis";
import { inject } from "vitest";

export type Topology = "single" | "cluster";
export const TOPOLOGIES: readonly Topology[] = ["single", "cluster"];

/** A client of the harness' single Redis or 3-node Cluster, with the recommended options. */
export async function connectTo(topology: Topology): Promise<RedisClient> {
  const services = inject("services");
  const client =
    topology === "single"
      ? new Redis(services.redis.url, { ...recommendedRedisOptions, lazyConnect: true })
      : new Cluster(services.redisCluster.nodes, {
          ...recommendedClusterOptions,
          lazyConnect: true,
        });
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** The masters of a Cluster, or the one server of a standalone Redis. */
export function mastersOf(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes("master") : [client];
}

/** Every key under `prefix`, on every master (SCAN per node: KEYS sees only its own). */
export async function keysUnder(client: RedisClient, prefix: string): Promise<string[]> {
  const all: string[] = [];
  for (const node of mastersOf(client)) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      all.push(...keys);
      cursor = next;
    } while (cursor !== "0");
  }
  return all.sort();
}

/** Index of the master holding `key` (0 on a standalone Redis). */
export async function nodeOf(client: RedisClient, key: string): Promise<number> {
  const masters = mastersOf(client);
  for (let i = 0; i < masters.length; i++) {
    // A master asked about a slot it does not own answers MOVED.
    if ((await masters[i]?.exists(key).catch(() => 0)) === 1) return i;
  }
  return -1;
}

/** The key of the pointer from a session's handle to its digest (see RedisSessionStore). */
export function handleKeyOf(prefix: string, token: string): string {
  return `${prefix}handle:${sessionIdFromDigest(hashToken(token))}`;
}

/** A fresh key namespace per test, so tests share servers without seeing each other. */
export function namespace(): { prefix: string; userIndexPrefix: string; root: string } {
  const root = `tessera-test:${randomBytes(6).toString("hex")}:`;
  return { root, prefix: `${root}token:`, userIndexPrefix: `${root}user-tokens:` };
}

/** A clock tests move by hand, starting now. */
export function fakeClock(start = Date.now()): {
  now: () => number;
  advance: (ms: number) => void;
} {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

/** Wraps a client so every command call (evalsha, hmget…) is counted: round trips, not bytes. */
export function countCalls<T extends object>(target: T): { client: T; calls: string[] } {
  const calls: string[] = [];
  const client = new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== "function" || typeof prop !== "string") return value;
      return (...args: unknown[]) => {
        calls.push(prop);
        return value.apply(obj, args);
      };
    },
  });
  return { client, calls };
}

export const MINUTE = 60_000;

/** Everything a strategy test needs against one topology. */
export interface Fixture {
  redis: RedisClient;
  userDb: MemoryUserDatabase;
  manager: UserManager<MemoryUser, string>;
  clock: ReturnType<typeof fakeClock>;
  keys: ReturnType<typeof namespace>;
  strategy(options?: Partial<RedisStrategyOptions<MemoryUser>>): RedisStrategy<MemoryUser, string>;
  /** A RedisSessionStore on the same keys and clock as {@link strategy}. */
  store(options?: Partial<RedisSessionStoreOptions<string>>): RedisSessionStore<string>;
  user(extra?: Record<string, unknown>): Promise<MemoryUser>;
}

export function fixture(redis: RedisClient): Fixture {
  const userDb = new MemoryUserDatabase();
  const clock = fakeClock();
  const keys = namespace();
  const manager = new UserManager<MemoryUser, string>({
    userDb,
    verificationTokenSecret: "verify-secret-0123456789-abcdefghijklmnop",
    resetPasswordTokenSecret: "reset-secret-0123456789-abcdefghijklmnopq",
  });
  return {
    redis,
    userDb,
    manager,
    clock,
    keys,
    strategy: (options = {}) =>
      new RedisStrategy<MemoryUser, string>({
        redis,
        prefix: keys.prefix,
        userIndexPrefix: keys.userIndexPrefix,
        clock: clock.now,
        ...options,
      }),
    store: (options = {}) =>
      new RedisSessionStore<string>({
        redis,
        prefix: keys.prefix,
        userIndexPrefix: keys.userIndexPrefix,
        clock: clock.now,
        ...options,
      }),
    // Straight into the store: no argon2 hashing, these tests are about sessions.
    user: (extra = {}) =>
      userDb.create({
        email: `${randomBytes(6).toString("hex")}@example.com`,
        hashedPassword: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        isActive: true,
        isSuperuser: false,
        isVerified: false,
        ...extra,
      }),
  };
}

/**
 * Records the write events Redis publishes for `key` (keyspace notifications: `hset`,
 * `expire`, `del`…), on the node that holds it. Counts writes exactly without MONITOR,
 * including those a Lua script makes.
 */
export async function watchWrites(
  client: RedisClient,
  key: string,
): Promise<{ events: string[]; settle: () => Promise<void>; stop: () => Promise<void> }> {
  const masters = mastersOf(client);
  const node = masters[await nodeOf(client, key)];
  if (!node) throw new Error(`no node holds ${key}`);
  const [, previous] = (await node.config("GET", "notify-keyspace-events")) as [string, string];
  await node.config("SET", "notify-keyspace-events", "Khg");
  const subscriber = node.duplicate({ enableOfflineQueue: true });
  subscriber.on("error", () => {});
  const events: string[] = [];
  const channel = `__keyspace@0__:${key}`;
  subscriber.on("message", (ch: string, event: string) => {
    if (ch === channel) events.push(event);
  });
  await subscriber.subscribe(channel);
  // Redis publishes a notification while the command runs, and delivers one channel's
  // messages in order: once our own marker arrives, every earlier event has too.
  const settle = async () => {
    await node.publish(channel, "settle");
    const deadline = Date.now() + 5000;
    while (events.at(-1) !== "settle") {
      if (Date.now() > deadline) throw new Error("keyspace events did not arrive");
      await new Promise((r) => setTimeout(r, 5));
    }
    events.pop();
  };
  return {
    events,
    settle,
    stop: async () => {
      subscriber.disconnect();
      await node.config("SET", "notify-keyspace-events", previous);
    },
  };
}

/**
 * Records, as every master sees them (MONITOR), the commands clients send that name
 * something under `root` (this test's keys), not those a Lua script runs: round trips counted
 * by the server, whatever the client library does. `settle` waits until every earlier
 * command has been seen.
 */
export async function monitorCommands(
  client: RedisClient,
  root: string,
): Promise<{ commands: string[][]; settle: () => Promise<void>; stop: () => void }> {
  const commands: string[][] = [];
  const marker = `${root}monitor-settle`;
  const seen = new Set<number>();
  const masters = mastersOf(client);
  const monitors = await Promise.all(masters.map((node) => node.monitor()));
  for (const [i, monitor] of monitors.entries()) {
    monitor.on("error", () => {});
    monitor.on("monitor", (_time: string, args: string[], source: string) => {
      if (source === "lua" || !args.some((arg) => arg.includes(root))) return;
      if (args[1] === marker) seen.add(i);
      else commands.push(args);
    });
  }
  return {
    commands,
    settle: async () => {
      seen.clear();
      // Sent after the commands under test were answered, so each monitor sees it after them
      // (ECHO names no key: every node runs it, where a GET would be MOVED and not shown).
      await Promise.all(masters.map((node) => node.call("ECHO", marker)));
      const deadline = Date.now() + 5000;
      while (seen.size < masters.length) {
        if (Date.now() > deadline) throw new Error("MONITOR did not see the marker");
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    stop: () => {
      for (const monitor of monitors) monitor.disconnect();
    },
  };
}
