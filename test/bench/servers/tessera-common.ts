// Tessera wired as its docs show for adapters that are not request-scoped (in memory, the
// global MikroORM EntityManager, db-mongo): one user manager for every request, backends
// tried by `currentUser({ active: true })`.
import {
  AuthenticationBackend,
  BearerTransport,
  type IdParser,
  PasswordHelper,
  type Strategy,
  type UserDatabase,
  UserManager,
  uuidIdParser,
} from "@tessera/core";
import { Tessera } from "@tessera/koa";
import type { Context, Middleware } from "koa";
import Koa from "koa";
import type { BenchUser } from "../lib/seed.ts";
import { MANAGER_SECRET } from "../lib/shared.ts";
import { meRouter } from "./common.ts";

export type Backend = AuthenticationBackend<BenchUser, string, Context>;

/** A Bearer backend named `name` over `getStrategy`. */
export function backend(
  name: string,
  getStrategy: (ctx: Context) => Strategy<BenchUser, string>,
): Backend {
  return new AuthenticationBackend<BenchUser, string, Context>({
    name,
    transport: new BearerTransport({ tokenUrl: `auth/${name}/login` }),
    getStrategy,
  });
}

// BENCH_HASH_CONCURRENCY: the login benchmark's "unlimited" arm (4 = libuv's whole pool).
const hashConcurrency = Number(process.env.BENCH_HASH_CONCURRENCY ?? 0);
const passwordHelper =
  hashConcurrency > 0 ? new PasswordHelper({ concurrency: hashConcurrency }) : undefined;

export function userManager(
  userDb: UserDatabase<BenchUser, string>,
  idParser: IdParser<string> = uuidIdParser,
): UserManager<BenchUser, string> {
  return new UserManager<BenchUser, string>({
    userDb,
    idParser,
    ...(passwordHelper ? { passwordHelper } : {}),
    verificationTokenSecret: MANAGER_SECRET,
    resetPasswordTokenSecret: `${MANAGER_SECRET}-reset`,
  });
}

export function tesseraApp(options: {
  backends: Backend[];
  /** Where users live; nothing is request-scoped, so one user manager serves every request. */
  userDb: UserDatabase<BenchUser, string>;
  /** @default uuidIdParser */
  idParser?: IdParser<string>;
  /** Tessera's rate limiting of logins (on by default). */
  rateLimit?: false;
}): { app: Koa; tessera: Tessera<BenchUser, string> } {
  const manager = userManager(options.userDb, options.idParser);
  const tessera = new Tessera<BenchUser, string>({
    getUserManager: () => manager,
    backends: options.backends,
    ...(options.rateLimit === false ? { rateLimit: false as const } : {}),
  });
  const app = new Koa();
  app.use(
    meRouter(
      [tessera.currentUser({ active: true }) as Middleware],
      (ctx) => ctx.state.user.id,
    ).routes(),
  );
  return { app, tessera };
}
