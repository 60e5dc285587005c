import { ConfigurationError } from "@tessera/core";
import type { Context } from "koa";

// Resolved against a host no request has: whatever leaves it was never a plain path.
const BASE = "http://tessera.invalid";
const MAX_NEXT_LENGTH = 2048;
// Backslashes (browsers read `/\evil` as `//evil`), control characters and whitespace
// (browsers strip tabs and newlines, turning `/\t/evil` into `//evil`).
const unsafe = (path: string) => {
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f || code === 0x5c) return true;
  }
  return /\s/.test(path);
};

/**
 * `next` as a path of this site within `allowed` (path prefixes), normalized (`..`
 * resolved), or null: an absolute URL, a scheme, `//host`, a backslash or a control
 * character is never one, so a form cannot be turned into an open redirect.
 */
export function safeRedirectPath(next: unknown, allowed: readonly string[]): string | null {
  if (typeof next !== "string" || next.length === 0 || next.length > MAX_NEXT_LENGTH) return null;
  if (!next.startsWith("/") || next.startsWith("//") || unsafe(next)) return null;
  let url: URL;
  try {
    url = new URL(next, BASE);
  } catch {
    return null;
  }
  if (url.origin !== BASE) return null;
  const path = url.pathname;
  const within = allowed.some(
    (prefix) =>
      prefix === "/" ||
      path === prefix ||
      path.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`),
  );
  return within ? path + url.search + url.hash : null;
}

/** A configured path, checked once at construction. */
export function checkedPath(path: string, option: string): string {
  if (safeRedirectPath(path, ["/"]) === null) {
    throw new ConfigurationError(`${option} must be a path of this site ("/", "/account"…)`);
  }
  return path;
}

/**
 * True for a navigation of a browser's HTML form: it asks for a page (`Accept: text/html`);
 * an API client (`fetch`, curl) does not, and keeps the API's answers.
 */
export function isFormNavigation(ctx: Context): boolean {
  const accept = ctx.get("accept");
  return accept !== "" && accept.toLowerCase().includes("text/html");
}

/** Where to send the browser: an allowed `next` (form field, else query), else `fallback`. */
export function redirectTarget(
  ctx: Context,
  raw: unknown,
  fallback: string,
  allowed: readonly string[],
): string {
  if (allowed.length === 0) return fallback;
  const field = (raw as { next?: unknown } | undefined)?.next;
  const next = field !== undefined ? field : ctx.query.next;
  return safeRedirectPath(next, allowed) ?? fallback;
}

/** Answers `303 See Other` to `path` (RFC 9110 §15.4.4: the browser follows with a GET). */
export function seeOther(ctx: Context, path: string): void {
  ctx.status = 303;
  ctx.redirect(path);
}
