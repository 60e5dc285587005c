// The example app's web page in a real browser: headless Chromium (Debian's, installed by
// test/harness/ensure-binaries.sh) driven by playwright-core, through register -> verify
// (the link from the outbox) -> log in -> who am I -> log out, a password reset, and the
// sessions: the list with devices, ending another one, a preference kept in session data;
// and the page's refresh-token login (issue 15): with a 2-second access token, the page
// stays logged in past its expiry by refreshing, and shows the login form when the refresh
// fails. Screenshots go to test/output/e2e/. The app runs in-process, built from its config
// exactly as server.ts builds it.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, request } from "../support/client.js";
import { collectingLogger, launchChromium, root, startInProcess, waitForLink } from "./support.js";

const SCREENSHOTS = join(root, "test", "output", "e2e");
const EMAIL = "grace@example.com";
const PASSWORD = "correct horse battery staple";
const NEW_PASSWORD = "a brand new passphrase";
/** ACCESS_TOKEN_LIFETIME_SECONDS of the app: short, so the tests outlive access tokens. */
const ACCESS_LIFETIME_SECONDS = 2;
const REFRESH_PATH = "/auth/refresh-cookie/refresh";
/** The User-Agent of a second session, logged in over HTTP as from another device. */
const OTHER_DEVICE =
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";

const { log, logs } = collectingLogger();

const cleanups: (() => void | Promise<void>)[] = [];
let url: string;
let outbox: string;
let browser: Browser;
let page: Page;
/** Console errors and uncaught exceptions of the page (a CSP violation shows up here). */
const pageErrors: string[] = [];
const seenMail = new Set<string>();
/** Every answer of the page's refresh route, in order: its status. */
const refreshes: number[] = [];

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const started = await startInProcess(
    { ACCESS_TOKEN_LIFETIME_SECONDS: String(ACCESS_LIFETIME_SECONDS) },
    { cleanups, log, prefix: "koa-app-e2e-" },
  );
  ({ url } = started);
  outbox = started.config.mail.outboxDir;
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 900, height: 1000 } });
  page = await context.newPage();
  page.on("console", (message) => {
    // The API's 400/401 answers are logged by Chromium too; the page expects them.
    const expected = /^Failed to load resource: the server responded with a status of 40[01]/;
    if (message.type() === "error" && !expected.test(message.text())) {
      pageErrors.push(message.text());
    }
  });
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("response", (response) => {
    if (new URL(response.url()).pathname === REFRESH_PATH) refreshes.push(response.status());
  });
});

afterAll(async () => {
  await browser?.close();
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const shot = (name: string) =>
  page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
const status = () => page.locator("#status");

async function logIn(password: string) {
  await page.goto(url);
  await page.locator("#login-email").fill(EMAIL);
  await page.locator("#login-password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

describe("examples/koa-app's page in Chromium", () => {
  it("register -> verify from the mailed link -> log in -> who am I -> log out", async () => {
    await page.goto(url);
    await expect.poll(() => page.locator("#login-title").isVisible()).toBe(true);
    await shot("01-home");

    await page.locator("#register-email").fill(EMAIL);
    await page.locator("#register-password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await expect.poll(() => status().textContent()).toContain("Account created");
    await shot("02-registered");

    const { link } = await waitForLink(outbox, EMAIL, url, "/verify", seenMail);
    await page.goto(link);
    // The token leaves the address bar (and history) as soon as the page has read it.
    expect(page.url()).toBe(`${url}/verify`);
    await page.getByRole("button", { name: "Verify my email" }).click();
    await expect.poll(() => status().textContent()).toBe(`Thank you: ${EMAIL} is verified.`);
    await shot("03-verified");

    await logIn(PASSWORD);
    await expect.poll(() => page.locator("#me-email").textContent()).toBe(EMAIL);
    expect(await page.locator("#me-verified").textContent()).toBe("Yes");
    expect(await page.locator("#me-superuser").textContent()).toBe("No");
    expect(await page.locator("#verify-hint").isVisible()).toBe(false);
    await expect
      .poll(() => page.locator("#sessions li").allTextContents())
      .toEqual([expect.stringContaining("(this browser)")]);
    // The session is two HttpOnly cookies, out of the page script's reach: the access
    // token's, and the refresh token's, which only the refresh route receives (ASVS 5.0 3.3.1).
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === "tessera_access")).toMatchObject({
      httpOnly: true,
      path: "/",
    });
    expect(cookies.find((c) => c.name === "tessera_refresh")).toMatchObject({
      httpOnly: true,
      sameSite: "Strict",
      path: REFRESH_PATH,
    });
    const visible = (await page.evaluate("document.cookie")) as string;
    expect(visible).not.toContain("tessera_access");
    expect(visible).not.toContain("tessera_refresh");
    await shot("04-logged-in");

    await page.getByRole("button", { name: "Log out", exact: true }).click();
    await expect.poll(() => status().textContent()).toBe("You are logged out.");
    await expect.poll(() => page.locator("#login-title").isVisible()).toBe(true);
    const me = await page.evaluate(async () => (await fetch("/users/me")).status);
    expect(me).toBe(401);
    await shot("05-logged-out");
  });

  it("forgot password -> the mailed link -> a new password; the old one is refused", async () => {
    await page.goto(url);
    await page.locator("#forgot-email").fill(EMAIL);
    await page.getByRole("button", { name: "Send me a reset link" }).click();
    await expect.poll(() => status().textContent()).toContain("a reset link is on its way");

    const { link } = await waitForLink(outbox, EMAIL, url, "/reset-password", seenMail);
    await page.goto(link);
    expect(page.url()).toBe(`${url}/reset-password`);
    await page.locator("#reset-password").fill(NEW_PASSWORD);
    await page.locator("#reset-confirm").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Set new password" }).click();
    await expect.poll(() => status().textContent()).toContain("Your password is changed");
    await shot("06-password-reset");

    await logIn(PASSWORD);
    await expect.poll(() => status().textContent()).toBe("Wrong email or password.");
    await shot("07-wrong-password");
    await logIn(NEW_PASSWORD);
    await expect.poll(() => page.locator("#me-email").textContent()).toBe(EMAIL);
  });

  it("lists the sessions with their devices, ends another one, and keeps a theme in this session's data across a reload", async () => {
    // Signed in by the previous test, in this browser only (the reset ended the others).
    await page.goto(url);
    const userAgent = (await page.evaluate("navigator.userAgent")) as string;
    const sessions = page.locator("#sessions li");
    await expect
      .poll(() => sessions.allTextContents())
      .toEqual([expect.stringContaining("(this browser)")]);
    const mine = sessions.filter({ hasText: "(this browser)" });
    expect(await mine.textContent()).toContain(userAgent);
    expect(await mine.locator("strong").textContent()).toBe("Headless Chrome on Linux");
    // Chromium reaches "localhost" over IPv6 or IPv4, whichever answers first.
    expect(await mine.textContent()).toMatch(/from (::1|127\.0\.0\.1) · signed in /);
    expect(await mine.getByRole("button").count()).toBe(0); // "Log out" ends this one

    // A second session: the same account logs in over HTTP, as from a phone.
    const phone = new Client(url);
    try {
      const login = await phone.request("POST", "/auth/db/login", {
        form: { username: EMAIL, password: NEW_PASSWORD },
        headers: { "user-agent": OTHER_DEVICE },
      });
      expect(login.status, JSON.stringify(login.body)).toBe(200);
      const token = (login.body as { access_token: string }).access_token;
      expect((await phone.request("GET", "/users/me", { bearer: token })).status).toBe(200);

      await page.reload();
      await expect.poll(() => sessions.count()).toBe(2);
      // This browser's session first, then the other, named by its device.
      const other = sessions.nth(1);
      expect(await other.locator("strong").textContent()).toBe("Chrome on Android");
      expect(await other.textContent()).toContain(OTHER_DEVICE);
      await shot("09-sessions");

      await other.getByRole("button", { name: /^End the session of Chrome on Android/ }).click();
      await expect.poll(() => status().textContent()).toBe("Session ended.");
      await expect
        .poll(() => sessions.allTextContents())
        .toEqual([expect.stringContaining("(this browser)")]);
      // Ended on the server, not only hidden: the phone's token is refused at once.
      expect((await phone.request("GET", "/users/me", { bearer: token })).status).toBe(401);
    } finally {
      phone.close();
    }

    // The theme: saved through the app's route into this session's data (mergeData) ...
    const theme = page.getByLabel("Theme");
    await expect.poll(() => theme.isEnabled()).toBe(true); // the saved choice is loaded
    expect(await theme.inputValue()).toBe("system");
    expect(await page.locator("html").getAttribute("data-theme")).toBeNull();
    await theme.selectOption("dark");
    await expect.poll(() => status().textContent()).toBe("Theme saved for this session.");
    expect(await page.locator("html").getAttribute("data-theme")).toBe("dark");
    // ... and read back from it (getData) after a reload, which starts the page afresh.
    await page.reload();
    await expect.poll(() => theme.isEnabled()).toBe(true);
    expect(await page.locator("html").getAttribute("data-theme")).toBe("dark");
    expect(await theme.inputValue()).toBe("dark");
    const background = await page.evaluate("getComputedStyle(document.body).backgroundColor");
    expect(background).toBe("rgb(13, 17, 23)");
    await shot("10-dark-theme");

    // Kept with the session, not the account: a new login starts from the default.
    await page.getByRole("button", { name: "Log out", exact: true }).click();
    await expect.poll(() => status().textContent()).toBe("You are logged out.");
    // The status shows before the page has asked /users/me again and reset the theme.
    await expect.poll(() => page.locator("html").getAttribute("data-theme")).toBeNull();
    await logIn(NEW_PASSWORD);
    await expect.poll(() => page.locator("#me-email").textContent()).toBe(EMAIL);
    // Loaded from /app/preferences (the select is enabled once the saved choice is in).
    await expect.poll(() => theme.isEnabled()).toBe(true);
    expect(await theme.inputValue()).toBe("system");
    expect(await page.locator("html").getAttribute("data-theme")).toBeNull();
  });

  it("stays logged in past the access token's expiry: a 401 makes the page refresh and retry", async () => {
    // Logged in by the previous test.
    await page.goto(url);
    await expect.poll(() => page.locator("#me-email").textContent()).toBe(EMAIL);
    const theme = page.getByLabel("Theme");
    await expect.poll(() => theme.isEnabled()).toBe(true);
    const before = refreshes.length;

    // Past the access token's lifetime: the browser has dropped the access cookie.
    await page.waitForTimeout((ACCESS_LIFETIME_SECONDS + 1) * 1000);
    const names = (await page.context().cookies()).map((c) => c.name);
    expect(names).not.toContain("tessera_access");
    expect(names).toContain("tessera_refresh");

    // Something that calls the API: the PUT answers 401, the page refreshes, the PUT again.
    await theme.selectOption("light");
    await expect.poll(() => status().textContent()).toBe("Theme saved for this session.");
    expect(await page.locator("html").getAttribute("data-theme")).toBe("light");
    // At least one refresh (a slow machine may outlive the new token too), every one a 204.
    expect(refreshes.length).toBeGreaterThan(before);
    expect(new Set(refreshes.slice(before))).toEqual(new Set([204]));
    expect(await page.locator("#signed-out").isVisible()).toBe(false);
    await shot("11-after-refresh");
    const afterFirst = refreshes.length;

    // Again, after a reload: who am I, the sessions and the theme fail together and share
    // one refresh; the session (its data, its place in the list) is the same one.
    await page.waitForTimeout((ACCESS_LIFETIME_SECONDS + 1) * 1000);
    await page.reload();
    await expect.poll(() => page.locator("#me-email").textContent()).toBe(EMAIL);
    await expect.poll(() => theme.isEnabled()).toBe(true);
    expect(await theme.inputValue()).toBe("light");
    await expect
      .poll(() => page.locator("#sessions li").allTextContents())
      .toEqual([expect.stringContaining("(this browser)")]);
    expect(refreshes.length).toBeGreaterThan(afterFirst);
    expect(new Set(refreshes.slice(before))).toEqual(new Set([204]));
    expect(await page.locator("#signed-out").isVisible()).toBe(false);
  });

  it("shows the login form when the refresh fails: the session was ended elsewhere", async () => {
    await page.goto(url);
    await expect.poll(() => page.locator("#me-email").textContent()).toBe(EMAIL);
    // Log out everywhere from another device, with the Bearer refresh-token backend.
    const other = await request(`${url}/auth/refresh/login`, {
      form: { username: EMAIL, password: NEW_PASSWORD },
    });
    expect(other.status, other.text).toBe(200);
    const bearer = (other.body as { access_token: string }).access_token;
    const out = await request(`${url}/auth/refresh/logout-all`, { method: "POST", bearer });
    expect(out.status, out.text).toBe(204);

    // Once this browser's access token has expired, its refresh token is refused.
    await page.waitForTimeout((ACCESS_LIFETIME_SECONDS + 1) * 1000);
    const before = refreshes.length;
    await page.reload();
    await expect.poll(() => page.locator("#login-title").isVisible()).toBe(true);
    expect(await page.locator("#signed-in").isVisible()).toBe(false);
    expect(refreshes.slice(before)).toEqual([401]);
    await shot("12-refresh-refused");

    // And logging in again works as before.
    await logIn(NEW_PASSWORD);
    await expect.poll(() => page.locator("#me-email").textContent()).toBe(EMAIL);
  });

  it("serves the API docs (Swagger UI on /openapi.json) from the app itself", async () => {
    await page.goto(`${url}/docs`);
    await expect
      .poll(() => page.locator(".swagger-ui .opblock").count(), { timeout: 15_000 })
      .toBeGreaterThan(10);
    await shot("08-api-docs");
  });

  it("left no console error and no uncaught exception in the page", () => {
    expect(pageErrors, logs.join("\n")).toEqual([]);
  });
});
