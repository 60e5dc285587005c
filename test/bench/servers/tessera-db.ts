// Tessera's database strategy (opaque Bearer tokens, SHA-256 digests at rest): token and
// user in one round trip through db-mikroorm (PostgreSQL, SQLite) or db-mongo.

import { objectIdStringParser } from "@tessera/core";
import {
  AccessToken,
  MikroOrmAccessTokenDatabase,
  MikroOrmUserDatabase,
  User,
} from "@tessera/db-mikroorm";
import {
  fastFailClientOptions,
  MongoAccessTokenDatabase,
  MongoUserDatabase,
} from "@tessera/db-mongo";
import { DatabaseStrategy } from "@tessera/strategy-database";
import type Koa from "koa";
import { MongoClient } from "mongodb";
import type { BenchUser } from "../lib/seed.ts";
import { env, SESSION_LIFETIME_SECONDS } from "../lib/shared.ts";
import { openOrm } from "./orm.ts";
import { backend, type MeReads, tesseraApp } from "./tessera-common.ts";

export async function dbApp(
  kind: "postgresql" | "sqlite" | "mongodb",
  reads: MeReads = "user",
): Promise<Koa> {
  if (kind === "mongodb") {
    const client = new MongoClient(env("MONGODB_URL"), fastFailClientOptions);
    await client.connect();
    const db = client.db("bench");
    const tokenCollection = db.collection("access_tokens");
    const users = new MongoUserDatabase<BenchUser>(db.collection("users") as never, {
      accessTokenCollection: tokenCollection as never,
    });
    const tokens = new MongoAccessTokenDatabase<BenchUser>(tokenCollection as never, { users });
    // The adapters keep no per-request state: one strategy serves every request.
    const strategy = new DatabaseStrategy<BenchUser>({
      database: tokens as never,
      lifetimeSeconds: SESSION_LIFETIME_SECONDS,
    });
    const auth = backend("db", () => strategy);
    // Mongo users have ObjectId ids: the id parser differs from the UUID default.
    const { app } = tesseraApp({
      backends: [auth],
      userDb: users as never,
      idParser: objectIdStringParser,
    });
    return app;
  }
  const orm = await openOrm(kind);
  const strategy = new DatabaseStrategy<BenchUser>({
    database: new MikroOrmAccessTokenDatabase(orm.em, AccessToken) as never,
    lifetimeSeconds: SESSION_LIFETIME_SECONDS,
  });
  const users = new MikroOrmUserDatabase(orm.em, User);
  return tesseraApp({
    backends: [backend("db", () => strategy)],
    userDb: users as never,
    reads,
  }).app;
}
