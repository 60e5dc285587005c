// Reference: what the MongoDB-protocol server itself allows on `GET /me`, hand-written with
// the native driver on db-mongo's collections — the token document by `_id` (the digest),
// then the user by `_id`: two round trips, as db-mongo does where `$lookup` is missing
// (FerretDB v1). The token is hashed as Tessera stores it. Tessera's db-mongo variant can
// come close to this figure, not pass it.
import Koa from "koa";
import { MongoClient, type ObjectId } from "mongodb";
import { env } from "../lib/shared.ts";
import { meRouter } from "./common.ts";
import { bearerToken, digest, live } from "./handwritten.ts";

interface TokenDoc {
  _id: string;
  user_id: ObjectId;
  created_at: Date;
  lifetime_seconds: number;
}
interface UserDoc {
  _id: ObjectId;
  is_active: boolean;
}

export async function build(): Promise<Koa> {
  // The driver's defaults (a pool of up to 100 connections), as such code is usually written.
  const client = await new MongoClient(env("MONGODB_URL")).connect();
  const db = client.db("bench");
  const tokens = db.collection<TokenDoc>("access_tokens");
  const users = db.collection<UserDoc>("users");
  const auth: Koa.Middleware = async (ctx, next) => {
    const token = bearerToken(ctx as Koa.Context);
    let user: UserDoc | null = null;
    if (token) {
      const row = await tokens.findOne({ _id: digest(token) });
      if (row && live(row.created_at, row.lifetime_seconds)) {
        user = await users.findOne({ _id: row.user_id });
      }
    }
    if (!user?.is_active) {
      ctx.status = 401;
      return;
    }
    ctx.state.user = user;
    await next();
  };
  const app = new Koa();
  app.use(meRouter([auth], (ctx) => ctx.state.user._id.toHexString()).routes());
  return app;
}
