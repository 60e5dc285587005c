// Issue 15: refresh-token sessions over HTTP — the RFC 6749 wire, rotation, theft detection,
// the concurrency rule, expiry, revocation with and without checkDatabase, the refresh
// cookie. On the app's store (memory, PostgreSQL, MongoDB through run-http-suite) and, in
// the default run, on Redis and a Redis Cluster.

import type { RedisClient } from "@tessera/strategy-redis";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connectTo, type Topology } from "../strategy-redis/support.js";
import { type RefreshOptions, startApp, type TestApp } from "../support/app.js";
import { type Reply, register, request } from "../support/client.js";

const PASSWORD = "correct horse battery";
const storeKind = process.env.TESSERA_HTTP_STORE ?? "memory";
// Redis runs once, in the default (memory) run; the database store on every store.
const TARGETS: ("db" | Topology)[] = storeKind === "memory" ? ["db", "single", "cluster"] : ["db"];

interface Pair {
  access_token: string;
  token_type: string;
  refresh_token: string;
  expires_in: number;
}

describe.each(TARGETS)("refresh-token sessions (%s)", (target) => {
  let app: TestApp;
  let client: RedisClient | undefined;
  const thefts: { email: string; handle: string }[] = [];
  let now = Date.now();
  const clock = () => now;

  beforeAll(async () => {
    if (target !== "db") client = await connectTo(target);
  });
  afterAll(() => client?.disconnect());
  afterEach(async () => {
    await app?.close();
    thefts.length = 0;
    now = Date.now();
  });

  async function start(refresh: Partial<RefreshOptions> = {}) {
    app = await startApp({
      refresh: {
        ...(client ? { store: "redis" as const, client } : {}),
        clock,
        ...refresh,
      },
      hooks: {
        onTokenTheftDetected: (user, session) => {
          thefts.push({ email: user.email, handle: session.handle });
        },
      },
    });
    return app;
  }

  async function signUp(email = `r${Math.random().toString(36).slice(2)}@example.com`) {
    expect((await register(app.url, email, PASSWORD)).status).toBe(201);
    return email;
  }

  const login = async (email: string): Promise<Pair> => {
    const res = await request(`${app.url}/auth/refresh/login`, {
      form: { username: email, password: PASSWORD },
    });
    expect(res.status, res.text).toBe(200);
    return res.body as Pair;
  };
  const refresh = (token: string, extra: Record<string, string> = {}) =>
    request(`${app.url}/auth/refresh/refresh`, {
      form: { grant_type: "refresh_token", refresh_token: token, ...extra },
    });
  const me = (access: string) => request(`${app.url}/users/me`, { bearer: access });
  const detail = (res: Reply) => (res.body as { detail?: unknown }).detail;

  it("logs in with the RFC 6749 §5.1 body: an access JWT with sub, sid, aud, iat, exp, jti and kid", async () => {
    await start();
    const email = await signUp();
    const res = await request(`${app.url}/auth/refresh/login`, {
      form: { username: email, password: PASSWORD },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const pair = res.body as Pair;
    expect(Object.keys(pair).sort()).toEqual([
      "access_token",
      "expires_in",
      "refresh_token",
      "token_type",
    ]);
    expect(pair.token_type).toBe("bearer");
    expect(pair.expires_in).toBe(900);
    const claims = decodeJwt(pair.access_token);
    expect(Object.keys(claims).sort()).toEqual(
      ["aud", "exp", "iat", "iat_ms", "jti", "sid", "sub"].sort(),
    );
    expect(claims.exp).toBe((claims.iat as number) + 900);
    expect(decodeProtectedHeader(pair.access_token).kid).toEqual(expect.any(String));
    // A FastAPI Users client reads access_token only, and it works.
    expect((await me(pair.access_token)).status).toBe(200);
    // The session list shows the session under its handle, the `sid`.
    const sessions = await request(`${app.url}/users/me/sessions`, { bearer: pair.access_token });
    const ids = (sessions.body as { id: string; current: boolean }[]).map((s) => [s.id, s.current]);
    expect(ids).toContainEqual([claims.sid, true]);
  });

  it("rotates on every use; the parent stays usable until its child is used, then it is theft", async () => {
    await start();
    const email = await signUp();
    const first = await login(email);
    const r1 = await refresh(first.refresh_token);
    expect(r1.status, r1.text).toBe(200);
    const second = r1.body as Pair;
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(decodeJwt(second.access_token).sid).toBe(decodeJwt(first.access_token).sid);
    expect((await me(second.access_token)).status).toBe(200);
    // A lost response: the same parent again gets the same child, not a theft alarm.
    const again = await refresh(first.refresh_token);
    expect(again.status).toBe(200);
    expect((again.body as Pair).refresh_token).toBe(second.refresh_token);
    // The child is used…
    const third = await refresh(second.refresh_token);
    expect(third.status).toBe(200);
    // …so the parent now is a copy: 401 REUSED, the session is gone, the hook told.
    const stolen = await refresh(first.refresh_token);
    expect([stolen.status, detail(stolen)]).toEqual([401, "REFRESH_TOKEN_REUSED"]);
    expect(thefts).toEqual([{ email, handle: decodeJwt(first.access_token).sid }]);
    const after = await refresh((third.body as Pair).refresh_token);
    expect([after.status, detail(after)]).toEqual([401, "REFRESH_TOKEN_INVALID"]);
    expect(await app.refreshSessions?.().listUserSessions(await idOf(email))).toEqual([]);
  });

  it("N concurrent refreshes with one token never trip theft detection and leave one live chain", async () => {
    await start();
    const email = await signUp();
    const first = await login(email);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => refresh(first.refresh_token)),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    const children = new Set(answers.map((a) => (a.body as Pair).refresh_token));
    expect(children.size).toBe(1);
    expect(thefts).toEqual([]);
    const sessions = await app.refreshSessions?.().listUserSessions(await idOf(email));
    expect(sessions).toHaveLength(1);
    // The one chain goes on.
    const next = await refresh([...children][0] as string);
    expect(next.status).toBe(200);
  });

  it("a token used after its child was used always ends the session, under concurrency", async () => {
    await start();
    const email = await signUp();
    const first = await login(email);
    const child = (await refresh(first.refresh_token)).body as Pair;
    const grandchild = (await refresh(child.refresh_token)).body as Pair;
    // The thief's parent copies race the owner's current token.
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        refresh(i % 2 === 0 ? first.refresh_token : grandchild.refresh_token),
      ),
    );
    const stolen = answers.filter((_, i) => i % 2 === 0);
    for (const res of stolen) {
      expect(res.status).toBe(401);
      expect(["REFRESH_TOKEN_REUSED", "REFRESH_TOKEN_INVALID"]).toContain(detail(res));
    }
    expect(stolen.some((res) => detail(res) === "REFRESH_TOKEN_REUSED")).toBe(true);
    expect(thefts.length).toBeGreaterThanOrEqual(1);
    // Whatever the interleaving, no chain survives.
    for (const res of answers.filter((a) => a.status === 200)) {
      expect((await refresh((res.body as Pair).refresh_token)).status).toBe(401);
    }
    expect(await app.refreshSessions?.().listUserSessions(await idOf(email))).toEqual([]);
  });

  it("refuses what is not a refresh token of ours (ASVS 5.0 7.2.1)", async () => {
    await start();
    const email = await signUp();
    const pair = await login(email);
    // An access token as a refresh token, and the reverse.
    const asRefresh = await refresh(pair.access_token);
    expect([asRefresh.status, detail(asRefresh)]).toEqual([401, "REFRESH_TOKEN_INVALID"]);
    expect((await me(pair.refresh_token)).status).toBe(401);
    // A forged tag, an unknown key.
    const [key, part] = pair.refresh_token.split(".") as [string, string];
    const forged = `${key}.${part.slice(0, -2)}${part.endsWith("AA") ? "BB" : "AA"}`;
    expect(detail(await refresh(forged))).toBe("REFRESH_TOKEN_INVALID");
    expect(detail(await refresh(`${"0".repeat(64)}.${part}`))).toBe("REFRESH_TOKEN_INVALID");
    // A forged token naming a live session does not end it (no false theft).
    expect(thefts).toEqual([]);
    expect((await refresh(pair.refresh_token)).status).toBe(200);
    // The wrong grant, or none: 422 as any bad form.
    expect((await refresh(pair.refresh_token, { grant_type: "password" })).status).toBe(422);
    const empty = await request(`${app.url}/auth/refresh/refresh`, { form: {} });
    expect(empty.status).toBe(422);
  });

  it("expires a refresh token unused for its idle lifetime, and every session at its absolute cap (ASVS 5.0 7.3.1, 7.3.2)", async () => {
    await start({ lifetimeSeconds: 60, maxLifetimeSeconds: 150 });
    const email = await signUp();
    const idle = await login(email);
    now += 61_000;
    expect(detail(await refresh(idle.refresh_token))).toBe("REFRESH_TOKEN_INVALID");
    // Used within its idle lifetime, a session lives on… until its absolute cap.
    let pair = await login(email);
    for (const step of [50_000, 50_000]) {
      now += step;
      const res = await refresh(pair.refresh_token);
      expect(res.status, res.text).toBe(200);
      pair = res.body as Pair;
    }
    now += 51_000;
    expect(detail(await refresh(pair.refresh_token))).toBe("REFRESH_TOKEN_INVALID");
  });

  it("logout ends the session, refresh included; logout-all and a password change end all", async () => {
    await start();
    const email = await signUp();
    const a = await login(email);
    const logout = await request(`${app.url}/auth/refresh/logout`, {
      method: "POST",
      bearer: a.access_token,
    });
    expect(logout.status).toBe(204);
    expect(detail(await refresh(a.refresh_token))).toBe("REFRESH_TOKEN_INVALID");

    const b = await login(email);
    const c = await login(email);
    const all = await request(`${app.url}/auth/refresh/logout-all`, {
      method: "POST",
      bearer: b.access_token,
    });
    expect(all.status).toBe(204);
    for (const pair of [b, c]) {
      expect(detail(await refresh(pair.refresh_token))).toBe("REFRESH_TOKEN_INVALID");
    }

    const d = await login(email);
    const e = await login(email);
    const changed = await request(`${app.url}/users/me`, {
      method: "PATCH",
      bearer: d.access_token,
      json: { password: "another correct horse", current_password: PASSWORD },
    });
    expect(changed.status, changed.text).toBe(200);
    // The session that changed it stays; the others end (ASVS 5.0 7.4.3).
    expect((await refresh(d.refresh_token)).status).toBe(200);
    expect(detail(await refresh(e.refresh_token))).toBe("REFRESH_TOKEN_INVALID");
  });

  it("an inactive user's refresh is refused and the session ended", async () => {
    await start();
    const email = await signUp();
    const pair = await login(email);
    const user = await app.userDb.getByEmail(email);
    await app.userManager().update({ isActive: false }, user as never, { safe: false });
    expect(detail(await refresh(pair.refresh_token))).toBe("REFRESH_TOKEN_INVALID");
  });

  it("without checkDatabase a revoked session's access token lives until its exp; with it, it is refused at once", async () => {
    await start({ accessTokenLifetimeSeconds: 60 });
    const email = await signUp();
    const pair = await login(email);
    await revokeAll(email);
    expect((await me(pair.access_token)).status).toBe(200);
    now += 61_000;
    expect((await me(pair.access_token)).status).toBe(401);
    await app.close();

    await start({ checkDatabase: true });
    const other = await signUp();
    const checked = await login(other);
    expect((await me(checked.access_token)).status).toBe(200);
    await revokeAll(other);
    expect((await me(checked.access_token)).status).toBe(401);
  });

  async function idOf(email: string): Promise<string> {
    const user = await app.userDb.getByEmail(email);
    if (!user) throw new Error(`no user ${email}`);
    return user.id;
  }

  async function revokeAll(email: string): Promise<void> {
    await app.refreshSessions?.().invalidateUserSessions(await idOf(email));
  }
});

describe("refresh cookie (ASVS 5.0 7.2.4, 3.3.1)", () => {
  let app: TestApp;
  afterEach(async () => app?.close());

  const cookiesOf = (res: Reply) => res.headers.getSetCookie();
  const pairOf = (cookies: string[]) =>
    cookies.map((c) => c.split(";")[0] ?? "").filter((c) => !c.endsWith("="));

  it("sets a refresh cookie only the refresh route receives, rotates it with a 204, and CSRF-checks it", async () => {
    app = await startApp({ refresh: {} });
    const email = `c${Math.random().toString(36).slice(2)}@example.com`;
    await register(app.url, email, PASSWORD);
    const login = await request(`${app.url}/auth/refresh-cookie/login`, {
      form: { username: email, password: PASSWORD },
    });
    expect(login.status).toBe(204);
    const set = cookiesOf(login);
    const refreshCookie = set.find((c) => c.startsWith("tessera_refresh_auth_refresh="));
    expect(refreshCookie).toMatch(/; Path=\/auth\/refresh-cookie\/refresh(;|$)/);
    expect(refreshCookie).toMatch(/; HttpOnly(;|$)/);
    expect(refreshCookie).toMatch(/; SameSite=Strict$/);
    const access = set.find((c) => c.startsWith("tessera_refresh_auth="));
    expect(access).toMatch(/; Path=\/(;|$)/);
    const cookie = pairOf(set).join("; ");
    const csrf = /tessera_csrf=([^;]+)/.exec(cookie)?.[1] ?? "";

    // Same-origin, as the page: 204 and both cookies again.
    const ok = await request(`${app.url}/auth/refresh-cookie/refresh`, {
      method: "POST",
      headers: { cookie, origin: app.url },
    });
    expect(ok.status, ok.text).toBe(204);
    const rotated = cookiesOf(ok);
    expect(rotated.some((c) => c.startsWith("tessera_refresh_auth="))).toBe(true);
    expect(rotated.find((c) => c.startsWith("tessera_refresh_auth_refresh="))).not.toBe(
      refreshCookie,
    );
    // A cross-site request with the cookie is refused (CSRF, ASVS 5.0 3.5.1).
    const cross = await request(`${app.url}/auth/refresh-cookie/refresh`, {
      method: "POST",
      headers: { cookie, origin: "https://evil.example" },
    });
    expect([cross.status, (cross.body as { detail: string }).detail]).toEqual([403, "CSRF_FAILED"]);
    // Without Origin, the double-submit token works as for any cookie change.
    const next = pairOf(rotated).join("; ");
    const echoed = await request(`${app.url}/auth/refresh-cookie/refresh`, {
      method: "POST",
      headers: { cookie: `${next}; tessera_csrf=${csrf}`, "x-csrf-token": csrf },
    });
    expect(echoed.status, echoed.text).toBe(204);
    // No refresh cookie: 401.
    const none = await request(`${app.url}/auth/refresh-cookie/refresh`, {
      method: "POST",
      headers: { origin: app.url },
    });
    expect([none.status, (none.body as { detail: string }).detail]).toEqual([
      401,
      "REFRESH_TOKEN_INVALID",
    ]);
  });

  it("logout clears the access and the refresh cookie at their paths", async () => {
    app = await startApp({ refresh: {} });
    const email = `c${Math.random().toString(36).slice(2)}@example.com`;
    await register(app.url, email, PASSWORD);
    const login = await request(`${app.url}/auth/refresh-cookie/login`, {
      form: { username: email, password: PASSWORD },
    });
    const cookie = pairOf(cookiesOf(login)).join("; ");
    const out = await request(`${app.url}/auth/refresh-cookie/logout`, {
      method: "POST",
      headers: { cookie, origin: app.url },
    });
    expect(out.status).toBe(204);
    const cleared = cookiesOf(out);
    expect(cleared).toContainEqual(
      expect.stringMatching(/^tessera_refresh_auth=; Max-Age=0;.*Path=\/;/),
    );
    expect(cleared).toContainEqual(
      expect.stringMatching(
        /^tessera_refresh_auth_refresh=; Max-Age=0;.*Path=\/auth\/refresh-cookie\/refresh;/,
      ),
    );
  });

  it("is in the OpenAPI document: /refresh for both backends, with the token-pair answer", async () => {
    app = await startApp({ refresh: {}, docs: true });
    const doc = (await request(`${app.url}/openapi.json`)).body as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const bearer = doc.paths["/auth/refresh/refresh"]?.post;
    expect(Object.keys(bearer?.responses ?? {})).toEqual(expect.arrayContaining(["200", "401"]));
    const cookie = doc.paths["/auth/refresh-cookie/refresh"]?.post;
    expect(Object.keys(cookie?.responses ?? {})).toEqual(
      expect.arrayContaining(["204", "401", "403"]),
    );
    expect(JSON.stringify(doc.paths["/auth/refresh/login"])).toContain("refresh_token");
    // A real refresh's body is what the document says: exactly the required keys, typed.
    const schema = (
      (bearer as { responses: Record<string, unknown> }).responses["200"] as {
        content: {
          "application/json": {
            schema: { required: string[]; properties: Record<string, { type: string }> };
          };
        };
      }
    ).content["application/json"].schema;
    const email = `d${Math.random().toString(36).slice(2)}@example.com`;
    await register(app.url, email, PASSWORD);
    const login = await request(`${app.url}/auth/refresh/login`, {
      form: { username: email, password: PASSWORD },
    });
    const refreshed = await request(`${app.url}/auth/refresh/refresh`, {
      form: {
        grant_type: "refresh_token",
        refresh_token: (login.body as { refresh_token: string }).refresh_token,
      },
    });
    const body = refreshed.body as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual([...schema.required].sort());
    for (const [key, value] of Object.entries(body)) {
      const type = schema.properties[key]?.type;
      expect(type === "integer" ? Number.isInteger(value) : typeof value === type, key).toBe(true);
    }
  });
});

describe("tessera.jwksRouter", () => {
  it("serves the refresh backends' public keys and lists the route in the OpenAPI document", async () => {
    const { generateKeyPairSync } = await import("node:crypto");
    const { JwtKeySet } = await import("@tessera/strategy-jwt");
    const { privateKey } = generateKeyPairSync("ed25519");
    const keys = new JwtKeySet([{ privateKey }]);
    const app = await startApp({ refresh: { keys }, docs: true, jwks: [keys] });
    try {
      const jwks = await request(`${app.url}/.well-known/jwks.json`);
      expect((jwks.body as { keys: { kid: string }[] }).keys.map((k) => k.kid)).toEqual([
        keys.currentKid,
      ]);
      const doc = (await request(`${app.url}/openapi.json`)).body as {
        paths: Record<string, unknown>;
      };
      expect(doc.paths["/.well-known/jwks.json"]).toBeDefined();
    } finally {
      await app.close();
    }
  });
});

describe("refresh-token sessions across a key rotation (ASVS 5.0 9.1.3)", () => {
  it("tokens signed by the previous key stay valid until they expire; new ones carry the new kid", async () => {
    const { generateKeyPairSync } = await import("node:crypto");
    const { JwtKeySet } = await import("@tessera/strategy-jwt");
    const a = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    const b = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    const before = new JwtKeySet([{ privateKey: a }]);
    const after = new JwtKeySet([{ privateKey: b }, { publicKey: a }]);
    const email = `k${Math.random().toString(36).slice(2)}@example.com`;
    let keys = before;
    const app = await startApp({ refresh: { keys: () => keys } });
    try {
      await register(app.url, email, PASSWORD);
      const login = await request(`${app.url}/auth/refresh/login`, {
        form: { username: email, password: PASSWORD },
      });
      const old = (login.body as { access_token: string }).access_token;
      expect(decodeProtectedHeader(old).kid).toBe(before.currentKid);
      // Rotated: B signs, A still verifies.
      keys = after;
      expect((await request(`${app.url}/users/me`, { bearer: old })).status).toBe(200);
      const fresh = await request(`${app.url}/auth/refresh/login`, {
        form: { username: email, password: PASSWORD },
      });
      const token = (fresh.body as { access_token: string }).access_token;
      expect(decodeProtectedHeader(token).kid).toBe(after.currentKid);
      expect((await request(`${app.url}/users/me`, { bearer: token })).status).toBe(200);
      // A dropped: its tokens are refused; B's are not.
      keys = new JwtKeySet([{ privateKey: b }]);
      expect((await request(`${app.url}/users/me`, { bearer: old })).status).toBe(401);
      expect((await request(`${app.url}/users/me`, { bearer: token })).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});
