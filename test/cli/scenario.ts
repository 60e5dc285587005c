// Every database command of `tessera`, run as a child process against one real database
// (and Redis when `redisUrl` is given), checked in the database itself through Tessera's
// adapters: the schema made and made once, a superuser from stdin under the app's password
// rules, sessions revoked and purged, a user deactivated, and the exit codes of each refusal.
import {
  type AccessTokenDatabase,
  type AccessTokenProtocol,
  UserManager,
  type UserProtocol,
} from "@tessera/core";
import { DatabaseStrategy } from "@tessera/strategy-database";
import { RedisStrategy } from "@tessera/strategy-redis";
import { RedisJwtRevocationStore } from "@tessera/strategy-redis/jwt";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tessera } from "./support.js";

type User = UserProtocol<string>;

/** The test's own view of the database the CLI works on. */
export interface ScenarioDatabase {
  /** DATABASE_URL or MONGODB_URL for the CLI. */
  env: Record<string, string>;
  /** Opens the test's adapters (after `migrate` has made the schema). */
  open(): Promise<{
    users: UserManager<User, string>["userDb"];
    tokens: () => AccessTokenDatabase<AccessTokenProtocol<string>, string>;
    close(): Promise<void>;
  }>;
  /** What `migrate` applies first: a statement or index it must list. */
  firstMigration: RegExp;
  /** The tables (SQL) or `collection.index` names (MongoDB) there are after `migrate`. */
  schema(): Promise<string[]>;
  /** What {@link schema} must include. */
  expectedSchema: string[];
  /** Drops the scratch database. */
  drop(): Promise<void>;
}

const SECRET = "cli-scenario-secret-of-at-least-32-bytes!";
const PASSWORD = "correct horse battery staple";
const DAY = 86_400_000;

export function cliScenario(
  name: string,
  setup: () => Promise<ScenarioDatabase>,
  redisUrl?: string,
): void {
  describe(`tessera on ${name}${redisUrl ? " with Redis" : ""}`, () => {
    let db: ScenarioDatabase;
    let adapters: Awaited<ReturnType<ScenarioDatabase["open"]>>;
    let redis: Redis | undefined;
    let env: Record<string, string>;
    const run = (args: string[], input?: string) =>
      tessera(args, { env, ...(input === undefined ? {} : { input }) });
    const manager = () =>
      new UserManager<User, string>({
        userDb: adapters.users,
        verificationTokenSecret: SECRET,
        resetPasswordTokenSecret: `${SECRET}-reset`,
      });
    const database = (clock?: () => number) =>
      new DatabaseStrategy<User>({ database: adapters.tokens(), ...(clock ? { clock } : {}) });

    beforeAll(async () => {
      db = await setup();
      env = { ...db.env, ...(redisUrl ? { REDIS_URL: redisUrl } : {}) };
      if (redisUrl) {
        redis = new Redis(redisUrl);
      }
    });
    afterAll(async () => {
      redis?.disconnect();
      await adapters?.close();
      await db?.drop();
    });

    it("migrate creates Tessera's schema, then finds nothing to do (idempotent)", async () => {
      const first = await run(["migrate"]);
      expect(first.stderr).toBe("");
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/^applied \d+ \(/);
      expect(first.stdout).toMatch(db.firstMigration);
      const again = await run(["migrate", "up"]);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/^up to date \(.*\): nothing to do\n$/);
      const pending = await run(["--json", "migrate", "--pending"]);
      expect(pending.code).toBe(0);
      expect(JSON.parse(pending.stdout)).toEqual({ pending: [] });
      expect(await db.schema()).toEqual(expect.arrayContaining(db.expectedSchema));
      adapters = await db.open();
    });

    it("users create-superuser reads the password from stdin (not a terminal) and makes an active, verified superuser", async () => {
      const created = await run(
        ["--json", "users", "create-superuser", "--email", "Admin@Example.com"],
        `${PASSWORD}\n`,
      );
      expect(created.stderr).toBe("");
      expect(created.code).toBe(0);
      const { created: user } = JSON.parse(created.stdout) as {
        created: { id: string; email: string };
      };
      expect(user.email).toBe("admin@example.com");
      const stored = await adapters.users.getByEmail("admin@example.com");
      expect(stored).toMatchObject({
        id: user.id,
        isSuperuser: true,
        isVerified: true,
        isActive: true,
      });
      // The password is the one piped in, less its newline.
      expect(
        await manager().authenticate({ username: "admin@example.com", password: PASSWORD }),
      ).toMatchObject({ id: user.id });
    });

    it("users create-superuser refuses an email that has an account (exit 1, any case)", async () => {
      const again = await run(
        ["users", "create-superuser", "--email", "ADMIN@example.com"],
        "another good passphrase",
      );
      expect(again.code).toBe(1);
      expect(again.stderr).toBe("tessera: a user with email admin@example.com already exists\n");
      expect(again.stdout).toBe("");
    });

    it("users create-superuser applies the app's password policy (ASVS 5.0 6.2.1, 6.2.4): too short or too common is refused (exit 1)", async () => {
      const common = await run(
        ["users", "create-superuser", "--email", "weak@example.com"],
        "password\n",
      );
      expect(common.code).toBe(1);
      expect(common.stderr).toMatch(/^tessera: password refused: Password is too common/);
      const short = await run(
        ["users", "create-superuser", "--email", "weak@example.com"],
        "short",
      );
      expect(short.code).toBe(1);
      expect(short.stderr).toMatch(/^tessera: password refused: .*8/);
      expect(await adapters.users.getByEmail("weak@example.com")).toBeNull();
    });

    it(`sessions revoke --user ends every session of the user (ASVS 5.0 7.4.2)${redisUrl ? ": database, Redis and the JWT revocation store" : ""}, and no one else's`, async () => {
      const admin = (await adapters.users.getByEmail("admin@example.com")) as User;
      const other = await manager().create({ email: "other@example.com", password: PASSWORD });
      const tokens = [await database().writeToken(admin), await database().writeToken(admin)];
      const otherToken = await database().writeToken(other);
      const redisStrategy = redis ? new RedisStrategy<User, string>({ redis }) : undefined;
      const redisToken = await redisStrategy?.writeToken(admin);
      const issuedAt = new Date(Date.now() - 1000);

      const revoked = await run(["sessions", "revoke", "--user", "admin@EXAMPLE.com"]);
      expect(revoked.stderr).toBe("");
      expect(revoked.code).toBe(0);
      expect(revoked.stdout).toBe(
        `sessions of admin@example.com ended in database${redisUrl ? ", redis, jwt-revocation" : ""}\n`,
      );
      const um = manager();
      for (const token of tokens) expect(await database().readToken(token, um)).toBeNull();
      expect(await database().readToken(otherToken, um)).toMatchObject({ id: other.id });
      if (redisStrategy && redis) {
        expect(await redisStrategy.readToken(redisToken as string, um)).toBeNull();
        const jwt = new RedisJwtRevocationStore({ redis });
        expect(await jwt.isRevoked({ jti: "a-jti", sub: admin.id, issuedAt })).toBe(true);
        expect(await jwt.isRevoked({ jti: "a-jti", sub: other.id, issuedAt })).toBe(false);
      }
    });

    it("users deactivate of an unknown email fails (exit 1)", async () => {
      const deactivate = await run(["users", "deactivate", "nobody@example.com"]);
      expect(deactivate.code).toBe(1);
      expect(deactivate.stderr).toBe("tessera: no user with email nobody@example.com\n");
    });

    it("sessions purge-expired deletes the expired sessions only", async () => {
      const other = (await adapters.users.getByEmail("other@example.com")) as User;
      // Sessions created 40 days ago: past the 30-day absolute cap.
      const old = () => Date.now() - 40 * DAY;
      await database(old).writeToken(other);
      await database(old).writeToken(other);
      const live = await database().writeToken(other);
      const purged = await run(["--json", "sessions", "purge-expired"]);
      expect(purged.stderr).toBe("");
      expect(purged.code).toBe(0);
      expect(JSON.parse(purged.stdout)).toEqual({ deleted: { database: 2 } });
      expect(await database().readToken(live, manager())).toMatchObject({ id: other.id });
      if (redisUrl) {
        const text = await run(["sessions", "purge-expired"]);
        expect(text.stdout).toBe(
          "database: deleted 0 expired sessions\n" +
            "redis: Redis expires sessions by itself (each key has a TTL): nothing to purge\n" +
            "jwt-revocation: revocation entries expire in Redis with the tokens they cover: nothing to purge\n",
        );
      }
    });

    it("users deactivate sets is_active=false and ends the user's sessions (ASVS 5.0 7.4.2); a second run says so", async () => {
      const other = (await adapters.users.getByEmail("other@example.com")) as User;
      const token = await database().writeToken(other);
      const done = await run(["users", "deactivate", "Other@Example.com"]);
      expect(done.stderr).toBe("");
      expect(done.code).toBe(0);
      expect(done.stdout).toMatch(/^deactivated other@example\.com; sessions ended in database/);
      expect(await adapters.users.getByEmail("other@example.com")).toMatchObject({
        isActive: false,
      });
      expect(await database().readToken(token, manager())).toBeNull();
      const again = await run(["--json", "users", "deactivate", "other@example.com"]);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ wasActive: false });
    });
  });
}
