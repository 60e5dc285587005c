// The browser's part of an authorization code flow at the suite's OIDC provider, over plain
// HTTP with a cookie jar: follow the authorization URL, post the provider's login form,
// consent, and stop at the redirect to the app's callback (with `code` and `state`, or
// `error`). No browser engine: the provider's devInteractions pages are simple forms.

/** How the user behaves at the provider. */
export interface ProviderSignIn {
  /** The username to type into the login form (an account of OIDC_ACCOUNTS). */
  login: string;
  /** Click "abort" on the login page instead: the callback gets `error=access_denied`. */
  abort?: boolean;
  /** Stop at a redirect whose URL starts with this (the app's callback). @default any other origin or path */
  callbackPrefix?: string;
}

/** A tiny cookie jar for one host: names to values (the provider's cookies are few). */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  store(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const eq = (pair ?? "").indexOf("=");
      if (eq <= 0) continue;
      const name = (pair as string).slice(0, eq).trim();
      const value = (pair as string).slice(eq + 1).trim();
      const expired = attrs.some((a) => {
        const [k, v] = a.trim().split("=");
        if (k?.toLowerCase() === "max-age") return Number(v) <= 0;
        if (k?.toLowerCase() === "expires") return Date.parse(v ?? "") <= Date.now();
        return false;
      });
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

const decodeHtml = (s: string) =>
  s
    .replace(/&amp;/g, "&")
    .replace(/&#x2F;/gi, "/")
    .replace(/&#x3D;/gi, "=")
    .replace(/&quot;/g, '"');

/**
 * Signs in at the provider from `authorizationUrl` and returns the URL the provider
 * redirects the browser to at the end: the app's callback with `code`, `state` (and `iss`),
 * or with `error`. Throws when the provider answers anything else (its error page).
 */
export async function signInAtProvider(
  authorizationUrl: string,
  how: ProviderSignIn,
  jar = new CookieJar(),
): Promise<URL> {
  const start = new URL(authorizationUrl);
  const isCallback = (url: URL) =>
    how.callbackPrefix
      ? url.href.startsWith(how.callbackPrefix)
      : url.origin !== start.origin || url.pathname.startsWith("/callback");
  let next: { url: URL; method: "GET" | "POST"; form?: Record<string, string> } = {
    url: start,
    method: "GET",
  };
  for (let step = 0; step < 20; step++) {
    const answer = await fetch(next.url, {
      method: next.method,
      redirect: "manual",
      headers: {
        cookie: jar.header(),
        ...(next.form ? { "content-type": "application/x-www-form-urlencoded" } : {}),
      },
      ...(next.form ? { body: new URLSearchParams(next.form).toString() } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    jar.store(answer.headers);
    const location = answer.headers.get("location");
    if (answer.status >= 300 && answer.status < 400 && location) {
      const target = new URL(location, next.url);
      if (isCallback(target)) return target;
      next = { url: target, method: "GET" };
      continue;
    }
    const html = await answer.text();
    if (answer.status !== 200) {
      throw new Error(
        `the provider answered ${answer.status} at ${next.url}: ${html.slice(0, 500)}`,
      );
    }
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="([a-z]+)"/.exec(html)?.[1];
    if (!action || !prompt) throw new Error(`no form at ${next.url}: ${html.slice(0, 500)}`);
    if (prompt === "login" && how.abort) {
      const abort = /href="([^"]*\/abort)"/.exec(html)?.[1];
      if (!abort) throw new Error("no abort link on the provider's login page");
      next = { url: new URL(decodeHtml(abort), next.url), method: "GET" };
      continue;
    }
    const form: Record<string, string> =
      prompt === "login" ? { prompt, login: how.login, password: "any" } : { prompt };
    next = { url: new URL(decodeHtml(action), next.url), method: "POST", form };
  }
  throw new Error("too many steps at the provider");
}
