// Issue 17 in a real browser: the example app's page in headless Chromium (Debian's, driven
// by playwright-core as in e2e.test.ts) with Chrome's virtual authenticator, enabled through
// the DevTools protocol (WebAuthn.enable + WebAuthn.addVirtualAuthenticator: a CTAP2
// platform authenticator with resident keys and user verification). The page registers a
// passkey, logs out, logs in with it (no email or password typed), deletes it, and then fails
// to log in with it; it enrols TOTP from its Security panel (the QR code and the key shown,
// recovery codes once) and logs in with the password and a code. The codes are computed by
// the tests' own RFC 6238 implementation, not the server's library. WebAuthn on plain http
// works only on localhost, so the page is served at http://localhost:PORT (APP_URL's default),
// which gives the RP ID and origin. Screenshots go to test/output/mfa-e2e/.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, CDPSession, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stepAt, totpAtStep } from "../../packages/mfa/src/test-utils/rfc6238.js";
import { launchChromium, root, startInProcess } from "./support.js";

const SCREENSHOTS = join(root, "test", "output", "mfa-e2e");
const PASSWORD = "correct horse battery staple";

const cleanups: (() => void | Promise<void>)[] = [];
let url: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let cdp: CDPSession;
let authenticatorId: string;
/** Console errors and uncaught exceptions of the page (a CSP violation shows up here). */
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const started = await startInProcess({}, { cleanups, prefix: "koa-app-mfa-e2e-" });
  ({ url } = started);
  expect(url).toBe(`http://localhost:${started.config.port}`);
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 900, height: 1400 } });
  page = await context.newPage();
  page.on("console", (message) => {
    // The API's 400/401 answers are logged by Chromium too; the page expects them.
    const expected = /^Failed to load resource: the server responded with a status of 40[01]/;
    if (message.type() === "error" && !expected.test(message.text())) {
      pageErrors.push(message.text());
    }
  });
  page.on("pageerror", (error) => pageErrors.push(error.message));
  // Chrome's virtual authenticator, for this page's target: a platform authenticator
  // ("internal") that keeps discoverable credentials and verifies the user (a PIN or
  // fingerprint, simulated as given), answering without a prompt.
  cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  ({ authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  }));
});

afterAll(async () => {
  await browser?.close();
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const shot = (name: string) =>
  page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
const status = () => page.locator("#status");
const fresh = (name: string) => `${name}-${Math.random().toString(36).slice(2, 8)}@example.com`;

/** Registers `email` through the page's form; the page then offers to log in. */
async function registerOnPage(email: string) {
  await page.goto(url);
  await page.locator("#register-email").fill(email);
  await page.locator("#register-password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect.poll(() => status().textContent()).toContain("Account created");
}

async function logInWithPassword(email: string) {
  await page.goto(url);
  await page.locator("#login-email").fill(email);
  await page.locator("#login-password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
}

async function logOut() {
  await page.getByRole("button", { name: "Log out", exact: true }).click();
  await expect.poll(() => status().textContent()).toBe("You are logged out.");
  await expect.poll(() => page.locator("#login-title").isVisible()).toBe(true);
}

const signedInAs = () => page.locator("#me-email").textContent();
/** The credentials the virtual authenticator holds. */
const credentials = async () =>
  (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;

describe("examples/koa-app's page in Chromium: passkeys and TOTP (issue 17)", () => {
  it("registers a passkey, logs out, logs in with it (nothing typed), deletes it, and then fails to log in with it (ASVS 5.0 6.5.6: a deleted passkey logs in no more)", async () => {
    const email = fresh("passkey");
    await registerOnPage(email);
    await logInWithPassword(email);
    await expect.poll(signedInAs).toBe(email);
    await expect.poll(() => page.locator("#passkeys li").allTextContents()).toEqual(["None yet."]);

    await page.locator("#passkey-name").fill("Virtual laptop");
    await page.getByRole("button", { name: "Add a passkey" }).click();
    await expect.poll(() => status().textContent()).toBe("Passkey added.");
    await expect
      .poll(() => page.locator("#passkeys li strong").allTextContents())
      .toEqual(["Virtual laptop"]);
    // The authenticator made a discoverable credential for the RP ID localhost.
    const made = await credentials();
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({ isResidentCredential: true, rpId: "localhost" });
    await shot("01-passkey-added");

    await logOut();
    await page.goto(url);
    await expect(page.locator("#login-email").inputValue()).resolves.toBe("");
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await expect.poll(signedInAs).toBe(email);
    // The login used the credential: its signature counter moved on.
    expect((await credentials())[0]?.signCount).toBeGreaterThan(made[0]?.signCount ?? 0);
    await expect
      .poll(() => page.locator("#passkeys li").first().textContent())
      .toContain("last used");
    await shot("02-passkey-login");

    await page.getByRole("button", { name: "Delete the passkey Virtual laptop" }).click();
    await expect.poll(() => status().textContent()).toBe("Passkey deleted.");
    await expect.poll(() => page.locator("#passkeys li").allTextContents()).toEqual(["None yet."]);
    await logOut();

    // The authenticator still holds the key; the server no longer knows it.
    expect(await credentials()).toHaveLength(1);
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await expect
      .poll(() => status().textContent())
      .toBe("This passkey is not registered here (was it deleted?).");
    expect(await status().getAttribute("data-kind")).toBe("error");
    expect(await page.locator("#login-title").isVisible()).toBe(true);
    const me = await page.evaluate(async () => (await fetch("/users/me")).status);
    expect(me).toBe(401);
    await shot("03-deleted-passkey-refused");
    expect(pageErrors).toEqual([]);
  });

  it("enrols TOTP from the Security panel (QR code, key, recovery codes once), then logs in with the password and a code (ASVS 5.0 6.3.3: the password alone opens no session; 6.5.1: a recovery code once)", async () => {
    const email = fresh("totp");
    await registerOnPage(email);
    await logInWithPassword(email);
    await expect.poll(signedInAs).toBe(email);
    await expect.poll(() => page.locator("#totp-status").textContent()).toContain("Off");

    await page.getByRole("button", { name: "Set up an authenticator app" }).click();
    await expect.poll(() => page.locator("#totp-secret").textContent()).toMatch(/^[A-Z2-7]{16,}$/);
    const secret = (await page.locator("#totp-secret").textContent()) ?? "";
    // The QR code: an SVG image drawn by the server, loaded (the CSP allows data: images).
    const qr = page.locator("#totp-qr");
    await expect.poll(() => qr.getAttribute("src")).toMatch(/^data:image\/svg\+xml;base64,/);
    await expect
      .poll(() =>
        // The tests compile without the DOM's types: the image's two properties, by hand.
        qr.evaluate((img) => {
          const { complete, naturalWidth } = img as unknown as Record<string, number>;
          return complete ? naturalWidth : 0;
        }),
      )
      .toBeGreaterThan(0);
    await shot("04-totp-qr");

    // A wrong code first: refused, TOTP stays off.
    const step = stepAt(Date.now());
    const wrong = totpAtStep(secret, step + 5);
    await page.locator("#totp-confirm-code").fill(wrong);
    await page.getByRole("button", { name: "Turn on" }).click();
    await expect
      .poll(() => status().textContent())
      .toBe("That code is wrong, already used or too old. Try the next one.");

    const confirmStep = stepAt(Date.now());
    await page.locator("#totp-confirm-code").fill(totpAtStep(secret, confirmStep));
    await page.getByRole("button", { name: "Turn on" }).click();
    await expect.poll(() => status().textContent()).toContain("The authenticator app is on.");
    const codes = await page.locator("#recovery-codes li").allTextContents();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    await expect.poll(() => page.locator("#totp-status").textContent()).toContain("On");
    await shot("05-totp-on-recovery-codes");
    await page.getByRole("button", { name: "I have saved them" }).click();
    expect(await page.locator("#recovery-codes li").count()).toBe(0);

    await logOut();
    await logInWithPassword(email);
    // The right password gives no session but the second step.
    await expect.poll(() => page.locator("#mfa-form").isVisible()).toBe(true);
    expect(await page.locator("#login-form").isVisible()).toBe(false);
    const me = await page.evaluate(async () => (await fetch("/users/me")).status);
    expect(me).toBe(401);
    await shot("06-mfa-step");

    // Each step is accepted once: the confirmation used confirmStep, so the login takes a
    // later step's code (the server accepts one step of skew ahead).
    await page.locator("#mfa-code").fill(totpAtStep(secret, confirmStep + 1));
    await page.getByRole("button", { name: "Continue" }).click();
    await expect.poll(signedInAs).toBe(email);
    await shot("07-logged-in-with-code");

    // A recovery code works once, in the same second step.
    await logOut();
    await logInWithPassword(email);
    await expect.poll(() => page.locator("#mfa-form").isVisible()).toBe(true);
    await page.locator("#mfa-code").fill(codes[0] ?? "");
    await page.getByRole("button", { name: "Continue" }).click();
    await expect.poll(signedInAs).toBe(email);
    await expect.poll(() => page.locator("#totp-status").textContent()).toContain("left: 9");

    // Off again with the password: the next login needs the password only.
    await page.locator("#totp-disable-password").fill(PASSWORD);
    await page.getByRole("button", { name: "Turn off" }).click();
    await expect.poll(() => status().textContent()).toBe("The authenticator app is off.");
    await logOut();
    await logInWithPassword(email);
    await expect.poll(signedInAs).toBe(email);
    expect(pageErrors).toEqual([]);
  });
});
