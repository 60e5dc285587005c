// Tessera's JWT strategy (HS256, Bearer) with the user read from PostgreSQL, SQLite or an
// in-process map (the last isolates the strategy: no I/O at all).
import { MemoryUserDatabase } from "@tessera/core/testing";
import { MikroOrmUserDatabase, User } from "@tessera/db-mikroorm";
import { JWTStrategy } from "@tessera/strategy-jwt";
import type Koa from "koa";
import pg from "pg";
import type { BenchUser } from "../lib/seed.ts";
import { env, JWT_SECRET, SESSION_LIFETIME_SECONDS } from "../lib/shared.ts";
import { openOrm } from "./orm.ts";
import { type Backend, backend, tesseraApp } from "./tessera-common.ts";

function jwtBackend(): Backend {
  const strategy = new JWTStrategy<BenchUser, string>({
    secret: JWT_SECRET,
    lifetimeSeconds: SESSION_LIFETIME_SECONDS,
  });
  return backend("jwt", () => strategy);
}

export async function jwtApp(source: "postgresql" | "sqlite" | "memory"): Promise<Koa> {
  if (source === "memory") {
    return tesseraApp({ backends: [jwtBackend()], userDb: (await memoryUsers()) as never }).app;
  }
  const orm = await openOrm(source);
  const users = new MikroOrmUserDatabase(orm.em, User);
  return tesseraApp({ backends: [jwtBackend()], userDb: users as never }).app;
}

/** Every seeded user, read once from PostgreSQL into an in-process user database. */
export async function memoryUsers(): Promise<MemoryUserDatabase> {
  const users = new MemoryUserDatabase();
  const client = new pg.Client({ connectionString: env("POSTGRES_URL") });
  await client.connect();
  const { rows } = await client.query(
    `select id, email, hashed_password, is_active, is_superuser, is_verified from "user"`,
  );
  await client.end();
  for (const r of rows) {
    users.users.set(r.id, {
      id: r.id,
      email: r.email,
      hashedPassword: r.hashed_password,
      isActive: r.is_active,
      isSuperuser: r.is_superuser,
      isVerified: r.is_verified,
    });
  }
  return users;
}
