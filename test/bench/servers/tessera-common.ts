// Tessera wired as its docs show for adapters that are not request-scoped (in memory, the
// global MikroORM EntityManager, db-mongo): one user manager for every request, backends
// tried by `currentUser({ active: true })`.

import { Router } from "@koa/router";
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
import { type RequestSession, Tessera } from "@tessera/koa";
import type { Context, Middleware } from "koa";
import Koa from "koa";
import type { BenchUser } from "../lib/seed.ts";
import { MANAGER_SECRET } from "../lib/shared.ts";
import { meRouter } from "./common.ts";

export type Backend = AuthenticationBackend<BenchUser, string, Context>;

/**
 * What `GET /me` reads once authenticated: the user (every variant but these), the
 * session's `handle`, `userId` and `claims` (`ctx.state.session`, which must cost no round
 * trip), or those and its data (`getData()`, one round trip).
 */
export type MeReads = "user" | "session" | "session-data";

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
  /** @default "user" */
  reads?: MeReads;
}): { app: Koa; tessera: Tessera<BenchUser, string> } {
  const manager = userManager(options.userDb, options.idParser);
  const tessera = new Tessera<BenchUser, string>({
    getUserManager: () => manager,
    backends: options.backends,
    ...(options.rateLimit === false ? { rateLimit: false as const } : {}),
  });
  const app = new Koa();
  const auth = tessera.currentUser({ active: true }) as Middleware;
  const reads = options.reads ?? "user";
  app.use(
    (reads === "user"
      ? meRouter([auth], (ctx) => ctx.state.user.id)
      : sessionMeRouter(auth, reads === "session-data")
    ).routes(),
  );
  return { app, tessera };
}

/**
 * `GET /me` answering the same `{"id": …}` from `ctx.state.session`: its `handle`, `userId`
 * and `claims` are read and checked (so none is skipped), and with `data` its `getData()`
 * is awaited too. The body is the other variants', so only the session read differs.
 */
function sessionMeRouter(auth: Middleware, data: boolean): Router {
  const router = new Router();
  router.get("/me", auth, async (ctx) => {
    const session = ctx.state.session as RequestSession<BenchUser, string> | null;
    if (session === null || typeof session.handle !== "string" || session.handle === "") {
      throw new Error("bench: no session on the request");
    }
    if (typeof session.claims !== "object") throw new Error("bench: no claims");
    if (data && typeof (await session.getData()) !== "object") throw new Error("bench: no data");
    ctx.body = { id: session.userId };
  });
  return router;
}
