// Peer: koa-passport + passport-jwt, the user read with the same adapter, on the same
// EntityManager, as Tessera's JWT-on-PostgreSQL variant.
import { createSecretKey } from "node:crypto";
import { MikroOrmUserDatabase, User } from "@tessera/db-mikroorm";
import Koa from "koa";
import passport from "koa-passport";
import { ExtractJwt, Strategy } from "passport-jwt";
import { JWT_SECRET } from "../lib/shared.ts";
import { meRouter } from "./common.ts";
import { openOrm } from "./orm.ts";

export async function build(): Promise<Koa> {
  const orm = await openOrm("postgresql");
  const users = new MikroOrmUserDatabase(orm.em, User);
  passport.use(
    new Strategy(
      {
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        secretOrKey: createSecretKey(Buffer.from(JWT_SECRET)) as unknown as string,
        algorithms: ["HS256"],
      },
      (payload: { sub?: string }, done: (e: unknown, u?: unknown) => void) => {
        if (typeof payload.sub !== "string") return done(null, false);
        users.get(payload.sub).then(
          (user) => done(null, user?.isActive ? user : false),
          (error) => done(error),
        );
      },
    ),
  );
  const app = new Koa();
  app.use(passport.initialize());
  const auth = passport.authenticate("jwt", { session: false });
  app.use(meRouter([auth], (ctx) => (ctx.state.user as { id: string }).id).routes());
  return app;
}
