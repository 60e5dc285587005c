import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app.js";
import { bearerMode, cookieMode, register, request } from "../support/client.js";

let app: TestApp;
let session: Record<string, string>;
const PASSWORD = "correct horse battery";
beforeEach(async () => {
  app = await startApp();
  await register(app.url, "csrf@example.com");
  session = await cookieMode.login(app.url, "csrf@example.com", PASSWORD);
});
afterEach(async () => app.close());

/** The cookie alone, as a browser attaches it to any request, cross-site included. */
const cookieOnly = () => ({ cookie: session.cookie ?? "" });
const patchMe = (headers: Record<string, string>) =>
  request(`${app.url}/users/me`, {
    method: "PATCH",
    headers,
    json: { password: "changed by attacker", current_password: PASSWORD },
  });
const stillOldPassword = async () =>
  expect(
    (
      await request(`${app.url}/auth/jwt/login`, {
        form: { username: "csrf@example.com", password: PASSWORD },
      })
    ).status,
  ).toBe(200);

describe("ASVS 5.0 3.5.1: CSRF protection of the cookie backend", () => {
  it.each([
    [
      "Sec-Fetch-Site: cross-site",
      { "sec-fetch-site": "cross-site", origin: "https://evil.example" },
    ],
    [
      "Sec-Fetch-Site: same-site (a sibling subdomain)",
      { "sec-fetch-site": "same-site", origin: "https://x.localhost" },
    ],
    ["a foreign Origin", { origin: "https://evil.example" }],
    ["Origin: null (sandboxed frame)", { origin: "null" }],
    ["no Origin and no token", {}],
    ["a token that does not match the cookie", { "x-csrf-token": "abc.def" }],
  ])("%s -> 403 CSRF_FAILED and nothing changes", async (_name, headers) => {
    const res = await patchMe({ ...cookieOnly(), ...headers });
    expect(res).toMatchObject({ status: 403, body: { detail: "CSRF_FAILED" } });
    await stillOldPassword();
  });

  it("a forged token pair (attacker-chosen cookie and header, unsigned) -> 403", async () => {
    const auth = (session.cookie ?? "").split("; ")[0];
    const res = await patchMe({
      cookie: `${auth}; tessera_csrf=mine.mine`,
      "x-csrf-token": "mine.mine",
    });
    expect(res.status).toBe(403);
  });

  it.each([
    ["Sec-Fetch-Site: same-origin", () => ({ ...cookieOnly(), "sec-fetch-site": "same-origin" })],
    [
      "Sec-Fetch-Site: none (typed by the user)",
      () => ({ ...cookieOnly(), "sec-fetch-site": "none" }),
    ],
    ["its own Origin", () => ({ ...cookieOnly(), origin: app.url })],
    ["the double-submit token", () => session],
  ])("%s passes", async (_name, headers) => {
    expect((await patchMe(headers())).status).toBe(200);
  });

  it("cookie logout and logout-all are protected too", async () => {
    const cross = { ...cookieOnly(), origin: "https://evil.example" };
    expect(
      (await request(`${app.url}/auth/cookie/logout`, { method: "POST", headers: cross })).status,
    ).toBe(403);
    expect(
      (await request(`${app.url}/auth/cookie/logout-all`, { method: "POST", headers: cross }))
        .status,
    ).toBe(403);
    expect((await request(`${app.url}/users/me`, { headers: cookieOnly() })).status).toBe(200);
  });

  it("login CSRF: a cross-site cookie login is refused; a same-origin one works", async () => {
    const form = { username: "csrf@example.com", password: PASSWORD };
    const cross = await request(`${app.url}/auth/cookie/login`, {
      form,
      headers: { "sec-fetch-site": "cross-site" },
    });
    expect(cross).toMatchObject({ status: 403, body: { detail: "CSRF_FAILED" } });
    expect(cross.headers.get("set-cookie")).toBeNull();
    const same = await request(`${app.url}/auth/cookie/login`, {
      form,
      headers: { origin: app.url },
    });
    expect(same.status).toBe(204);
  });

  it("safe methods and Bearer-authenticated requests are not subject to it", async () => {
    expect(
      (
        await request(`${app.url}/users/me`, {
          headers: { ...cookieOnly(), origin: "https://evil.example" },
        })
      ).status,
    ).toBe(200);
    const bearer = await bearerMode.login(app.url, "csrf@example.com", PASSWORD);
    const res = await request(`${app.url}/users/me`, {
      method: "PATCH",
      headers: { ...bearer, origin: "https://evil.example", "sec-fetch-site": "cross-site" },
      json: { email: "csrf2@example.com", current_password: PASSWORD },
    });
    expect(res.status).toBe(200);
  });
});

describe("CSRF options", () => {
  it("trustedOrigins admits a named cross-origin front-end, nothing else", async () => {
    await app.close();
    app = await startApp({ csrf: { trustedOrigins: ["https://front.example"] } });
    await register(app.url, "csrf@example.com");
    session = await cookieMode.login(app.url, "csrf@example.com", PASSWORD);
    const from = (origin: string) => ({ ...cookieOnly(), origin, "sec-fetch-site": "cross-site" });
    expect((await patchMe(from("https://evil.example"))).status).toBe(403);
    // (Last: the password change it makes ends the session.)
    expect((await patchMe(from("https://front.example"))).status).toBe(200);
  });

  it("csrf: false turns it off (for APIs with no browser clients)", async () => {
    await app.close();
    app = await startApp({ csrf: false });
    await register(app.url, "csrf@example.com");
    session = await cookieMode.login(app.url, "csrf@example.com", PASSWORD);
    expect((await patchMe({ ...cookieOnly(), origin: "https://evil.example" })).status).toBe(200);
  });
});
