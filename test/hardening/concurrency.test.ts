// ASVS 5.0 7.4.1, 15.4.2: races over HTTP, on every store (memory, PostgreSQL via
// MikroORM, the MongoDB-protocol server via db-mongo) and every stateful backend
// (JWT with its revocation store, on Bearer and Cookie; database; Redis).
// - Login/logout storms: logins, double logouts and reads (which renew sessions: the
//   tokens are in their sliding-renewal window) all at once. Afterwards every token whose
//   logout answered 204 is refused everywhere and gone from the store; every other lives.
// - Log-out-everywhere racing logins: a token issued before it was asked is dead after it.
// - Parallel registrations of one email (in letter-case variants), and parallel email
//   changes to one address: exactly one wins, the rest get a 400, never a 500.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app.js";
import { Client, type Reply } from "../support/client.js";
import { BACKENDS, type Backend, freshEmail, login, PASSWORD } from "./support.js";

/** Short sessions, so that a wait of just over half of it puts tokens in their renewal window. */
const SESSION_SECONDS = 6;
const STORM_TOKENS = 16;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(["memory", "mikroorm-postgresql", "mongo"])(
  "[%s] ASVS 5.0 7.4.1, 15.4.2: races",
  (store) => {
    let app: TestApp;
    let client: Client;
    const errors: unknown[] = [];

    beforeAll(async () => {
      process.env.TESSERA_HTTP_STORE = store;
      app = await startApp({ redis: true, sessionLifetimeSeconds: SESSION_SECONDS });
      app.koa.on("error", (error) => errors.push(error));
      client = new Client(app.url, { maxSockets: 64 });
    });
    afterAll(async () => {
      client?.close();
      await app?.close();
      expect(errors).toEqual([]);
    });

    /** Stored digests of the database strategy, read once. */
    const storedDigests = async () => new Set(await app.tokenDigests());

    /** Is this session's token still stored (database row or Redis key)? Null for JWTs. */
    async function stored(
      backend: Backend,
      token: string,
      digests: Set<string>,
    ): Promise<boolean | null> {
      const digest = createHash("sha256").update(token).digest("hex");
      if (backend.strategy === "database") return digests.has(digest);
      if (backend.strategy === "redis" && app.redis) {
        return (await app.redis.client.exists(`${app.redis.prefix}token:${digest}`)) === 1;
      }
      return null;
    }

    const me = (headers: Record<string, string>) => client.send({ path: "/users/me", headers });
    const logout = (backend: Backend, headers: Record<string, string>, all = false) =>
      client.send({
        method: "POST",
        path: `/auth/${backend.name}/logout${all ? "-all" : ""}`,
        headers,
      });

    it("a login/logout storm on every backend at once leaves no logged-out token valid (7.4.1)", async () => {
      // Per backend: a user and its sessions, in their renewal window at the storm.
      const issued: number[] = [];
      const setups = await Promise.all(
        BACKENDS.map(async (backend) => {
          const email = freshEmail(`storm-${backend.name}`);
          const created = await client.json("/auth/register", { email, password: PASSWORD });
          expect(created.status).toBe(201);
          const sessions = await Promise.all(
            Array.from({ length: STORM_TOKENS }, () =>
              login(client, backend, email).then((session) => {
                issued.push(performance.now());
                return session;
              }),
            ),
          );
          expect(new Set(sessions.map((s) => s.token)).size).toBe(STORM_TOKENS);
          return { backend, email, sessions };
        }),
      );
      // The youngest session just past half its idle lifetime, so every read below renews
      // it; but the oldest no older than 70% of it, so none expires during the storm.
      const lifetime = SESSION_SECONDS * 1000;
      const stormAt = Math.min(
        Math.max(...issued) + lifetime / 2 + 150,
        Math.min(...issued) + 0.7 * lifetime,
      );
      await sleep(Math.max(0, stormAt - performance.now()));
      const inWindow = issued.filter((t) => performance.now() - t > lifetime / 2).length;
      console.log(
        `[${store}] storm: ${inWindow} of ${issued.length} sessions in their renewal window`,
      );
      expect(inWindow).toBeGreaterThan(0);

      const results = await Promise.all(
        setups.map(async ({ backend, email, sessions }) => {
          const doomed = sessions.filter((_, i) => i % 2 === 0);
          const spared = sessions.filter((_, i) => i % 2 === 1);
          const logouts: Promise<Reply>[] = [];
          const traffic: Promise<{ status: number }>[] = [];
          for (const session of doomed) {
            // Two logouts of one token race each other and three reads that renew it.
            logouts.push(logout(backend, session.headers), logout(backend, session.headers));
            for (let r = 0; r < 3; r++) traffic.push(me(session.headers));
          }
          for (const session of spared) {
            for (let r = 0; r < 3; r++) traffic.push(me(session.headers));
          }
          for (let l = 0; l < 6; l++) {
            traffic.push(login(client, backend, email).then(() => ({ status: 200 })));
          }
          const [outcomes, others] = await Promise.all([
            Promise.all(logouts),
            Promise.all(traffic),
          ]);
          return { backend, doomed, spared, outcomes, others };
        }),
      );

      // The spared sessions first: a read renews them again, and their lifetime is short.
      for (const { backend, spared } of results) {
        for (const session of spared) {
          const res = await me(session.headers);
          expect(res.status, `${backend.name}: a session never logged out`).toBe(200);
        }
      }
      const digests = await storedDigests();
      for (const { backend, doomed, spared, outcomes, others } of results) {
        const what = backend.name;
        for (const res of others) expect(res.status, what).toBeLessThan(500);
        // Per token: one logout did it (204), the other found it gone (401) or also did (204).
        for (let i = 0; i < doomed.length; i++) {
          const pair = [outcomes[2 * i]?.status, outcomes[2 * i + 1]?.status];
          expect(pair, `${what}: logouts of token ${i}`).toContain(204);
          expect(
            pair.every((s) => s === 204 || s === 401),
            `${what}: token ${i}`,
          ).toBe(true);
        }
        for (const session of spared) {
          expect(await stored(backend, session.token, digests), what).not.toBe(false);
        }
        for (const session of doomed) {
          expect((await me(session.headers)).status, `${what}: logged out`).toBe(401);
          const list = await client.send({ path: "/users/me/sessions", headers: session.headers });
          expect(list.status, `${what}: logged out`).toBe(401);
          expect((await logout(backend, session.headers)).status, `${what}: logged out`).toBe(401);
          expect(await stored(backend, session.token, digests), `${what}: logged out`).not.toBe(
            true,
          );
        }
      }
    }, 60_000);

    for (const backend of BACKENDS) {
      it(`${backend.name}: log-out-everywhere racing logins leaves no earlier token valid (7.4.1)`, async () => {
        const email = freshEmail(`all-${backend.name}`);
        expect((await client.json("/auth/register", { email, password: PASSWORD })).status).toBe(
          201,
        );
        const before = await Promise.all(
          Array.from({ length: 12 }, () => login(client, backend, email)),
        );
        const [first] = before;
        if (!first) throw new Error("no session");
        // Logins in flight while the log-out-everywhere runs: they may live or die.
        const racing = Array.from({ length: 6 }, () =>
          login(client, backend, email).catch(() => null),
        );
        const reads = before.map((s) => me(s.headers));
        const everywhere = await logout(backend, first.headers, true);
        expect(everywhere.status).toBe(204);
        await Promise.all([...racing, ...reads]);
        // Issued before it was asked: dead, in the store too.
        const digests = await storedDigests();
        for (const session of before) {
          expect((await me(session.headers)).status).toBe(401);
          expect(await stored(backend, session.token, digests)).not.toBe(true);
        }
        // Issued after it answered: alive.
        const after = await login(client, backend, email);
        expect((await me(after.headers)).status).toBe(200);
      }, 60_000);
    }

    it("parallel registrations of one email (case variants) make exactly one user (15.4.2)", async () => {
      const users = await app.userCount();
      const email = freshEmail("race");
      const variants = [
        email,
        email.toUpperCase(),
        ` ${email}`,
        email.replace(/^./, (c) => c.toUpperCase()),
      ];
      const answers = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          client.json("/auth/register", {
            email: variants[i % variants.length],
            password: PASSWORD,
          }),
        ),
      );
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      for (const a of answers.filter((x) => x.status !== 201)) {
        expect(a).toMatchObject({ status: 400, body: { detail: "REGISTER_USER_ALREADY_EXISTS" } });
      }
      expect(await app.userCount()).toBe(users + 1);
      const winner = answers.find((a) => a.status === 201)?.body as { id: string };
      expect((await app.userDb.getByEmail(email))?.id).toBe(winner.id);
    }, 60_000);

    it("parallel email changes of several users to one address: exactly one wins (15.4.2)", async () => {
      const target = freshEmail("target");
      const people = await Promise.all(
        Array.from({ length: 6 }, async () => {
          const email = freshEmail("mover");
          await client.json("/auth/register", { email, password: PASSWORD });
          return login(client, BACKENDS[2] as Backend, email);
        }),
      );
      const answers = await Promise.all(
        people.map((p) =>
          client.json(
            "/users/me",
            { email: target, current_password: PASSWORD },
            p.headers,
            "PATCH",
          ),
        ),
      );
      expect(answers.map((a) => a.status).filter((s) => s === 200)).toHaveLength(1);
      for (const a of answers.filter((x) => x.status !== 200)) {
        expect(a).toMatchObject({
          status: 400,
          body: { detail: "UPDATE_USER_EMAIL_ALREADY_EXISTS" },
        });
      }
      const owner = await app.userDb.getByEmail(target);
      const winner = answers.find((a) => a.status === 200)?.body as { id: string };
      expect(owner?.id).toBe(winner.id);
    }, 60_000);
  },
);
