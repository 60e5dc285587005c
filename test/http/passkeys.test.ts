// Issue 17: passkeys over HTTP with a software authenticator (real ES256 keys, real WebAuthn
// responses that @simplewebauthn/server verifies): register for the signed-in user, list,
// log in through Bearer and cookie backends without a username, delete, and fail to log in
// with the deleted one. In-memory store.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stepAt, totpAtStep } from "../../packages/mfa/src/test-utils/rfc6238.js";
import { SoftwareAuthenticator } from "../../packages/passkeys/src/test-utils/authenticator.js";
import { PASSKEY_ORIGIN, startApp, type TestApp } from "../support/app.js";
import { type Reply, register, request } from "../support/client.js";

const PASSWORD = "correct horse battery";
const events: { email: string; type: string }[] = [];
let now = Math.floor(Date.now() / 30_000) * 30_000 + 15_000;

let app: TestApp;
beforeAll(async () => {
  app = await startApp({
    passkeys: {},
    mfa: { now: () => now },
    refresh: {},
    hooks: {
      onSecurityEvent: (user, event) => void events.push({ email: user.email, type: event.type }),
    },
  });
});
afterAll(() => app.close());

const fresh = () => `pk-${Math.random().toString(36).slice(2)}@example.com`;

async function signedIn(backend = "jwt", email = fresh()) {
  await register(app.url, email, PASSWORD);
  const res = await request(`${app.url}/auth/${backend}/login`, {
    form: { username: email, password: PASSWORD },
  });
  expect(res.status, res.text).toBe(200);
  return { email, token: (res.body as { access_token: string }).access_token };
}

/** Registers a passkey on `authenticator` for the user of `token`, through the routes. */
async function registerPasskey(
  token: string,
  authenticator: SoftwareAuthenticator,
  name = "Laptop",
) {
  const start = await request(`${app.url}/users/me/passkeys/options`, {
    method: "POST",
    bearer: token,
  });
  expect(start.status, start.text).toBe(200);
  const { challenge_id, options } = start.body as { challenge_id: string; options: never };
  const credential = authenticator.register(options, { origin: PASSKEY_ORIGIN });
  return request(`${app.url}/users/me/passkeys`, {
    json: { challenge_id, credential, name },
    bearer: token,
  });
}

/** A passkey login through `backend`: the options, the authenticator, the login. */
async function passkeyLogin(
  backend: string,
  authenticator: SoftwareAuthenticator,
  bend: Parameters<SoftwareAuthenticator["login"]>[1] = { origin: PASSKEY_ORIGIN },
): Promise<Reply> {
  const start = await request(`${app.url}/auth/${backend}/passkey/options`, { method: "POST" });
  expect(start.status, start.text).toBe(200);
  const { challenge_id, options } = start.body as { challenge_id: string; options: never };
  expect((options as { allowCredentials?: unknown[] }).allowCredentials ?? []).toEqual([]);
  const credential = authenticator.login(options, bend);
  return request(`${app.url}/auth/${backend}/passkey/login`, {
    json: { challenge_id, credential },
  });
}

describe("passkeys over HTTP", () => {
  it("register, list, log in through Bearer and cookie, delete, and fail to log in with the deleted one", async () => {
    const { email, token } = await signedIn();
    const authenticator = new SoftwareAuthenticator();
    const registered = await registerPasskey(token, authenticator, "  My laptop  ");
    expect(registered.status, registered.text).toBe(201);
    const passkey = registered.body as { id: string; name: string; last_used_at: null };
    expect(passkey).toMatchObject({ name: "My laptop", last_used_at: null, backed_up: false });
    expect(events).toContainEqual({ email, type: "passkey_added" });

    const list = await request(`${app.url}/users/me/passkeys`, { bearer: token });
    expect(list.body).toEqual([passkey]);
    expect(JSON.stringify(list.body)).not.toMatch(/public_?key/i);

    // Bearer: the token body.
    const bearer = await passkeyLogin("jwt", authenticator);
    expect(bearer.status, bearer.text).toBe(200);
    const access = (bearer.body as { access_token: string }).access_token;
    const me = await request(`${app.url}/users/me`, { bearer: access });
    expect((me.body as { email: string }).email).toBe(email);
    // Cookie: the session cookie.
    const cookie = await passkeyLogin("cookie", authenticator);
    expect(cookie.status, cookie.text).toBe(204);
    const jar = cookie.headers.getSetCookie().map((c) => c.split(";")[0] ?? "");
    expect(jar.some((c) => c.startsWith("tessera_auth="))).toBe(true);
    expect(
      (await request(`${app.url}/users/me`, { headers: { cookie: jar.join("; ") } })).status,
    ).toBe(200);
    // The database backend and a refresh pair too.
    expect((await passkeyLogin("db", authenticator)).status).toBe(200);
    const pair = await passkeyLogin("refresh", authenticator);
    expect(pair.body).toHaveProperty("refresh_token");
    const used = await request(`${app.url}/users/me/passkeys`, { bearer: token });
    expect((used.body as { last_used_at: string | null }[])[0]?.last_used_at).not.toBeNull();

    const deleted = await request(`${app.url}/users/me/passkeys/${passkey.id}`, {
      method: "DELETE",
      bearer: token,
    });
    expect(deleted.status, deleted.text).toBe(204);
    expect(events).toContainEqual({ email, type: "passkey_removed" });
    expect((await request(`${app.url}/users/me/passkeys`, { bearer: token })).body).toEqual([]);
    const refused = await passkeyLogin("jwt", authenticator);
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ detail: "PASSKEY_UNKNOWN_CREDENTIAL" });
    const again = await request(`${app.url}/users/me/passkeys/${passkey.id}`, {
      method: "DELETE",
      bearer: token,
    });
    expect(again.status).toBe(404);
  });

  it("ASVS 5.0 6.5.6: a user deletes their own passkey, never another user's (404)", async () => {
    const alice = await signedIn();
    const bob = await signedIn();
    const registered = await registerPasskey(alice.token, new SoftwareAuthenticator());
    const { id } = registered.body as { id: string };
    const res = await request(`${app.url}/users/me/passkeys/${id}`, {
      method: "DELETE",
      bearer: bob.token,
    });
    expect(res.status).toBe(404);
    expect(
      (await request(`${app.url}/users/me/passkeys`, { bearer: alice.token })).body,
    ).toHaveLength(1);
  });

  it("a passkey with user verification logs in without the TOTP step (it is two factors)", async () => {
    const { email, token } = await signedIn();
    const enrol = await request(`${app.url}/users/me/mfa/totp`, { method: "POST", bearer: token });
    const { secret } = enrol.body as { secret: string };
    const confirm = await request(`${app.url}/users/me/mfa/totp/confirm`, {
      json: { code: totpAtStep(secret, stepAt(now)) },
      bearer: token,
    });
    expect(confirm.status).toBe(200);
    now += 60_000;
    // The password alone now needs a second step…
    const password = await request(`${app.url}/auth/jwt/login`, {
      form: { username: email, password: PASSWORD },
    });
    expect((password.body as { detail: string }).detail).toBe("LOGIN_MFA_REQUIRED");
    // …a passkey does not.
    const authenticator = new SoftwareAuthenticator();
    expect((await registerPasskey(token, authenticator)).status).toBe(201);
    expect((await passkeyLogin("jwt", authenticator)).status).toBe(200);
  });

  it("ASVS 5.0 6.3.7: refuses an authenticator without user verification, another origin, a cloned counter", async () => {
    const { token } = await signedIn();
    const noUv = await registerPasskey(token, new SoftwareAuthenticator({ userVerified: false }));
    expect(noUv.body).toEqual({ detail: "PASSKEY_VERIFICATION_FAILED" });
    const authenticator = new SoftwareAuthenticator();
    expect((await registerPasskey(token, authenticator)).status).toBe(201);
    const clone = authenticator.clone();
    // A phishing origin: refused.
    const phished = await passkeyLogin("jwt", authenticator, { origin: "https://evil.example" });
    expect(phished.body).toEqual({ detail: "PASSKEY_VERIFICATION_FAILED" });
    expect((await passkeyLogin("jwt", authenticator)).status).toBe(200);
    // The clone's counter is behind the original's.
    const cloned = await passkeyLogin("jwt", clone);
    expect(cloned.body).toEqual({ detail: "PASSKEY_COUNTER_NOT_INCREASED" });
  });

  it("ASVS 5.0 6.7.2: a login challenge is single-use", async () => {
    const { token } = await signedIn();
    const authenticator = new SoftwareAuthenticator();
    expect((await registerPasskey(token, authenticator)).status).toBe(201);
    const start = await request(`${app.url}/auth/jwt/passkey/options`, { method: "POST" });
    const { challenge_id, options } = start.body as { challenge_id: string; options: never };
    const credential = authenticator.login(options, { origin: PASSKEY_ORIGIN });
    const first = await request(`${app.url}/auth/jwt/passkey/login`, {
      json: { challenge_id, credential },
    });
    expect(first.status).toBe(200);
    const replay = await request(`${app.url}/auth/jwt/passkey/login`, {
      json: { challenge_id, credential },
    });
    expect(replay.body).toEqual({ detail: "PASSKEY_INVALID_CHALLENGE" });
  });

  it("refuses an inactive user's passkey with LOGIN_BAD_CREDENTIALS", async () => {
    const { email, token } = await signedIn();
    const authenticator = new SoftwareAuthenticator();
    expect((await registerPasskey(token, authenticator)).status).toBe(201);
    const user = await app.userDb.getByEmail(email);
    await app.userDb.update(user as NonNullable<typeof user>, { isActive: false } as never);
    const res = await passkeyLogin("jwt", authenticator);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ detail: "LOGIN_BAD_CREDENTIALS" });
  });

  it("ASVS 5.0 7.4.3: adding or removing a passkey ends the other sessions and keeps this one", async () => {
    const { email, token: current } = await signedIn("db");
    const other = await request(`${app.url}/auth/db/login`, {
      form: { username: email, password: PASSWORD },
    });
    const otherToken = (other.body as { access_token: string }).access_token;
    expect((await registerPasskey(current, new SoftwareAuthenticator())).status).toBe(201);
    expect((await request(`${app.url}/users/me`, { bearer: current })).status).toBe(200);
    expect((await request(`${app.url}/users/me`, { bearer: otherToken })).status).toBe(401);
  });

  it("the registration challenge is the user's: another user cannot use it", async () => {
    const alice = await signedIn();
    const bob = await signedIn();
    const start = await request(`${app.url}/users/me/passkeys/options`, {
      method: "POST",
      bearer: alice.token,
    });
    const { challenge_id, options } = start.body as { challenge_id: string; options: never };
    const credential = new SoftwareAuthenticator().register(options, { origin: PASSKEY_ORIGIN });
    const res = await request(`${app.url}/users/me/passkeys`, {
      json: { challenge_id, credential },
      bearer: bob.token,
    });
    expect(res.body).toEqual({ detail: "PASSKEY_INVALID_CHALLENGE" });
  });

  describe("bad input is a 4xx, never a 500", () => {
    const bodies: unknown[] = [
      null,
      [],
      "text",
      {},
      { challenge_id: 1 },
      { challenge_id: "a".repeat(43) },
      { challenge_id: "a".repeat(43), credential: null },
      { challenge_id: "a".repeat(43), credential: { id: "x", type: "public-key", response: {} } },
      {
        challenge_id: "a".repeat(43),
        credential: { id: { $ne: "" }, type: "public-key", response: {} },
      },
      {
        challenge_id: "a".repeat(43),
        credential: { id: "x".repeat(5000), type: "public-key", response: {} },
      },
      {
        challenge_id: "a".repeat(43),
        credential: { id: "abc", type: "public-key", response: { clientDataJSON: 5 } },
      },
      { challenge_id: "a".repeat(43), credential: { id: "abc", type: "public-key", response: [] } },
    ];
    it.each(bodies.map((b) => [JSON.stringify(b), b]))("%s", async (_name, body) => {
      const { token } = await signedIn();
      for (const path of [
        "/auth/jwt/passkey/login",
        "/auth/cookie/passkey/login",
        "/users/me/passkeys",
      ]) {
        const res = await request(`${app.url}${path}`, { json: body, bearer: token });
        expect([400, 422], `${path}: ${res.status} ${res.text}`).toContain(res.status);
      }
      // A real challenge with a garbage credential uses the challenge up, and is a 400.
      const start = await request(`${app.url}/auth/jwt/passkey/options`, { method: "POST" });
      const { challenge_id } = start.body as { challenge_id: string };
      const garbage = await request(`${app.url}/auth/jwt/passkey/login`, {
        json: { ...(typeof body === "object" && body !== null ? body : {}), challenge_id },
      });
      expect([400, 422], garbage.text).toContain(garbage.status);
    });
  });
});
