// "Sign in with …" on the example app's page in a real browser (issue 16): headless Chromium
// (Debian's, driven by playwright-core) clicks "Sign in with Local", goes through the suite's
// real OpenID Connect provider's own login and consent pages (oidc-provider on loopback), and
// lands on the page signed in, with the linked account shown; then unlinks it and links it
// again from the signed-in page. The app runs in-process, configured from the variables a
// user sets (OAUTH_LOCAL_ISSUER / _CLIENT_ID / _CLIENT_SECRET: the harness' issuer, also in
// TESSERA_OIDC_ISSUER). Screenshots go to test/output/e2e/.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchChromium, root, startInProcess } from "./support.js";

const SCREENSHOTS = join(root, "test", "output", "e2e");

const cleanups: (() => void | Promise<void>)[] = [];
let url: string;
let issuer: string;
let browser: Browser;
let page: Page;
/** Console errors and uncaught exceptions of the app's page. */
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const oidc = inject("oidc");
  issuer = process.env.TESSERA_OIDC_ISSUER ?? "";
  expect(issuer).toBe(oidc.issuer);
  // As a user would start it: the provider named by environment variables. The provider
  // accepts loopback callbacks on 127.0.0.1, so APP_URL (the redirect URIs' base) is that.
  ({ url } = await startInProcess(
    {
      OAUTH_LOCAL_ISSUER: issuer,
      OAUTH_LOCAL_CLIENT_ID: oidc.clientId,
      OAUTH_LOCAL_CLIENT_SECRET: oidc.clientSecret,
    },
    { cleanups, hostname: "127.0.0.1", prefix: "koa-app-oauth-e2e-" },
  ));
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 900, height: 1000 } });
  page = await context.newPage();
  page.on("console", (message) => {
    // /users/me answers 401 before the sign-in; the page expects it.
    const expected = /^Failed to load resource: the server responded with a status of 401/;
    if (
      message.type() === "error" &&
      page.url().startsWith(url) &&
      !expected.test(message.text())
    ) {
      pageErrors.push(message.text());
    }
  });
  page.on("pageerror", (error) => pageErrors.push(error.message));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const shot = (name: string) =>
  page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

/** True when `check` holds now; false while the page is between documents. */
async function holds(check: () => Promise<boolean>): Promise<boolean> {
  try {
    return await check();
  } catch {
    return false;
  }
}

/**
 * The user at the provider's own pages, until `back` holds on the app's page: types `login`
 * (any password) into the provider's login form when it shows one, and clicks "Continue" on
 * its consent page. A provider that remembers the user may send the browser straight back.
 */
async function throughProvider(login: string, shotPrefix: string, back: () => Promise<boolean>) {
  const visited: string[] = [];
  for (let step = 0; step < 200; step++) {
    if (page.url().startsWith(url) && (await holds(back))) return visited;
    if (page.url().startsWith(issuer)) {
      const before = page.url();
      const loginField = page.locator('input[name="login"]');
      const consent = page.getByRole("button", { name: "Continue" });
      if (await holds(() => loginField.isVisible())) {
        visited.push("login");
        await shot(`${shotPrefix}-provider-login`);
        await loginField.fill(login);
        await page.locator('input[name="password"]').fill("any password");
        await page.getByRole("button", { name: "Sign-in" }).click();
        await page.waitForURL((u) => u.href !== before);
        continue;
      }
      if (await holds(() => consent.isVisible())) {
        visited.push("consent");
        await shot(`${shotPrefix}-provider-consent`);
        await consent.click();
        await page.waitForURL((u) => u.href !== before);
        continue;
      }
    }
    await page.waitForTimeout(50);
  }
  throw new Error(`never back on the page; at ${page.url()}`);
}

describe("examples/koa-app's Sign in with, in Chromium", () => {
  it("clicks 'Sign in with Local', signs in on the provider's own login and consent pages, and lands on the page signed in with the account linked", async () => {
    await page.goto(url);
    const button = page.getByRole("button", { name: "Sign in with Local" });
    await expect.poll(() => button.isVisible()).toBe(true);
    await shot("oauth-01-sign-in-with");

    await button.click();
    const visited = await throughProvider("alice", "oauth-02", async () =>
      page.locator("#signed-in").isVisible(),
    );
    // The provider's own pages: its login form, then its consent.
    expect(visited).toEqual(["login", "consent"]);

    // Back on the page, at `/`, signed in by the page's own cookie backend.
    expect(page.url()).toBe(`${url}/`);
    await expect.poll(() => page.locator("#me-email").textContent()).toBe("alice@example.com");
    await expect(page.locator("#me-verified").textContent()).resolves.toBe("Yes");
    const linked = page.locator("#oauth-accounts li");
    await expect.poll(() => linked.count()).toBe(1);
    await expect(linked.first().textContent()).resolves.toContain("Local");
    await expect(linked.first().textContent()).resolves.toContain("alice@example.com");
    await shot("oauth-03-signed-in");
    // The state cookie was deleted by the callback; the session's cookies are set (the
    // refresh cookie for its refresh route only). Cookies are per host, not port: the
    // provider's own on 127.0.0.1 are left out.
    const cookies = await page.context().cookies([url, `${url}/auth/refresh-cookie/refresh`]);
    const names = cookies.map((c) => c.name).filter((n) => n.startsWith("tessera_"));
    expect(names.sort()).toEqual(["tessera_access", "tessera_csrf", "tessera_refresh"]);
  });

  it("unlinks the account, then links it again through the provider, landing back on the page", async () => {
    await page.getByRole("button", { name: "Unlink Local (alice@example.com)" }).click();
    await expect.poll(() => page.locator("#status").textContent()).toBe("Local unlinked.");
    await expect.poll(() => page.locator("#oauth-accounts").textContent()).toContain("None yet.");

    await page.getByRole("button", { name: "Link Local" }).click();
    // The provider remembers alice's sign-in: it may go straight back, or ask again.
    await throughProvider(
      "alice",
      "oauth-04",
      async () =>
        (await page.locator("#status").textContent()) === "Local is linked to your account.",
    );
    expect(page.url()).toBe(`${url}/`);
    await expect
      .poll(() => page.locator("#oauth-accounts li").first().textContent())
      .toContain("alice@example.com");
    await shot("oauth-05-linked-again");
    expect(pageErrors).toEqual([]);
  });
});
