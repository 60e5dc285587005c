import {
  type AccessTokenDatabase,
  type AccessTokenProtocol,
  hashToken,
  objectIdStringParser,
  type UserDatabase,
  UserManager,
  type UserProtocol,
  uuidIdParser,
} from "@tessera/core";
import {
  AccessToken,
  MikroOrmAccessTokenDatabase,
  MikroOrmUserDatabase,
  MongoAccessToken,
  MongoUser,
  User,
} from "@tessera/db-mikroorm";
import { DatabaseStrategy } from "@tessera/strategy-database";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type DriverKind,
  openTestOrm,
  type TestOrm,
} from "../../packages/db-mikroorm/src/test-utils/orm.js";

// The database strategy's rules (ASVS 5.0 chapter 7) on real databases through
// @tessera/db-mikroorm: PostgreSQL, SQLite and the MongoDB-protocol server.
type AnyUser = UserProtocol<string>;
const SECRET = "strategy-test-secret-of-at-least-32-bytes";
const START = Date.UTC(2026, 0, 1);

describe.each<DriverKind>(["postgresql", "sqlite", "mongodb"])(
  "DatabaseStrategy on %s",
  (driver) => {
    let db: TestOrm;
    let now: number;
    let user: AnyUser;
    const mongo = driver === "mongodb";
    const users = () =>
      (mongo
        ? new MikroOrmUserDatabase(db.em(), MongoUser)
        : new MikroOrmUserDatabase(db.em(), User)) as unknown as UserDatabase<AnyUser, string>;
    const tokens = () =>
      (mongo
        ? new MikroOrmAccessTokenDatabase(db.em(), MongoAccessToken)
        : new MikroOrmAccessTokenDatabase(db.em(), AccessToken)) as unknown as AccessTokenDatabase<
        AccessTokenProtocol<string>,
        string
      >;
    const manager = () =>
      new UserManager<AnyUser, string>({
        userDb: users(),
        idParser: mongo ? objectIdStringParser : uuidIdParser,
        verificationTokenSecret: SECRET,
        resetPasswordTokenSecret: SECRET,
      });
    const strategy = (options: { lifetimeSeconds?: number; maxLifetimeSeconds?: number } = {}) =>
      new DatabaseStrategy<AnyUser>({ database: tokens(), clock: () => now, ...options });
    const rows = async () => (await tokens().listByUser?.(user.id)) ?? [];

    beforeAll(async () => {
      db = await openTestOrm(driver, mongo ? [MongoUser, MongoAccessToken] : [User, AccessToken]);
    }, 60_000);
    afterAll(() => db?.close());
    beforeEach(async () => {
      now = START;
      await tokens().deleteExpired(new Date(Date.UTC(3000, 0, 1)));
      user = await users().create({
        email: `u${Math.random().toString(36).slice(2)}@example.com`,
        hashedPassword: "x",
        isActive: true,
        isSuperuser: false,
        isVerified: false,
      });
    });

    it("round trip; only the digest is stored; the digest itself is no token", async () => {
      const token = await strategy().writeToken(user);
      expect((await strategy().readToken(token, manager()))?.id).toBe(user.id);
      const stored = (await rows()).map((r) => r.token);
      expect(stored).toEqual([hashToken(token)]);
      expect(await strategy().readToken(stored[0] ?? "", manager())).toBeNull();
    });

    if (driver === "postgresql") {
      it("one database round trip per authenticated request (token JOIN user)", async () => {
        const token = await strategy().writeToken(user);
        const s = strategy();
        const m = manager();
        await s.readToken(token, m); // warm: prepares the statement
        const { result, queries } = await db.captureQueries(() => s.readToken(token, m));
        expect(result?.id).toBe(user.id);
        expect(queries).toHaveLength(1);
      });

      it("readSession is that same one round trip, with the session's claims and device", async () => {
        const s = strategy();
        const m = manager();
        const token = await s.writeSession(user, {
          device: { ipAddress: "198.51.100.4", userAgent: "ua" },
          claims: { role: "editor" },
        });
        await s.readSession(token, m);
        const { result, queries } = await db.captureQueries(() => s.readSession(token, m));
        expect(queries).toHaveLength(1);
        expect(result?.user.id).toBe(user.id);
        expect(result?.session).toMatchObject({
          userId: user.id,
          claims: { role: "editor" },
          device: { ipAddress: "198.51.100.4", userAgent: "ua" },
          lastUsedAt: null,
        });
      });
    }

    if (!mongo) {
      it("session data by handle: get, set, set claims and merge are one query each (issue 14)", async () => {
        const sessions = strategy().sessions;
        const { session } = await sessions.createSession(user.id, { data: { a: 1 } });
        const { handle } = session;
        await sessions.getSessionData(handle); // warm: prepares the statement
        const each: (() => Promise<unknown>)[] = [
          () => sessions.getSessionData(handle),
          () => sessions.setSessionData(handle, { b: 2 }),
          () => sessions.setSessionClaims(handle, { role: "x" }),
          () => sessions.mergeSessionData(handle, { c: 3, b: null }),
        ];
        for (const op of each) expect((await db.captureQueries(op)).queries).toHaveLength(1);
        expect(await sessions.getSessionData(handle)).toEqual({ c: 3 });
      });
    }

    it("ASVS 5.0 7.3.1: an idle-expired token reads as null and its row is deleted", async () => {
      const token = await strategy({ lifetimeSeconds: 60 }).writeToken(user);
      now += 60_000;
      expect(await strategy({ lifetimeSeconds: 60 }).readToken(token, manager())).toBeNull();
      expect(await rows()).toHaveLength(0);
    });

    it("sliding renewal writes once per half-lifetime, not per request", async () => {
      const token = await strategy({ lifetimeSeconds: 100 }).writeToken(user);
      now += 40_000;
      for (let i = 0; i < 5; i++)
        await strategy({ lifetimeSeconds: 100 }).readToken(token, manager());
      expect((await rows())[0]?.lifetimeSeconds).toBe(100);
      now += 15_000; // 45 s left < 50
      for (let i = 0; i < 5; i++)
        await strategy({ lifetimeSeconds: 100 }).readToken(token, manager());
      expect((await rows())[0]?.lifetimeSeconds).toBe(155);
    });

    it("ASVS 5.0 7.3.2: never renewed past maxLifetimeSeconds", async () => {
      const s = () => strategy({ lifetimeSeconds: 100, maxLifetimeSeconds: 250 });
      const token = await s().writeToken(user);
      for (; now < START + 249_000; now += 30_000)
        expect(await s().readToken(token, manager())).not.toBeNull();
      expect((await rows())[0]?.lifetimeSeconds).toBeLessThanOrEqual(250);
      now = START + 250_000;
      expect(await s().readToken(token, manager())).toBeNull();
    });

    it("ASVS 5.0 7.4.1: logout deletes the row; logout-all kills every device", async () => {
      const a = await strategy().writeToken(user);
      const b = await strategy().writeToken(user);
      const c = await strategy().writeToken(user);
      await strategy().destroyToken(a, user);
      expect(await strategy().readToken(a, manager())).toBeNull();
      expect(await rows()).toHaveLength(2);
      await strategy().destroyAllTokens(user);
      expect(await strategy().readToken(b, manager())).toBeNull();
      expect(await strategy().readToken(c, manager())).toBeNull();
      expect(await rows()).toHaveLength(0);
    });

    it("sessions: listed by an id that is not the token, one destroyed by id", async () => {
      const a = await strategy().writeToken(user);
      await strategy().writeToken(user);
      const sessions = (await strategy().listSessions?.(user, a)) ?? [];
      expect(sessions).toHaveLength(2);
      const current = sessions.find((s) => s.current);
      expect(current?.id).not.toBe(hashToken(a));
      expect(await strategy().destroySession?.(user, current?.id ?? "")).toBe(true);
      expect(await strategy().readToken(a, manager())).toBeNull();
    });
  },
);
