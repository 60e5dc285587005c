import { Router } from "@koa/router";
import type { Tessera, TesseraState } from "@tessera/koa";
import type { ParameterizedContext } from "koa";
import type { User } from "./db/index.js";

/** The page's themes: "system" follows the browser's `prefers-color-scheme`. */
export const THEMES = ["system", "light", "dark"] as const;
export type Theme = (typeof THEMES)[number];

/** What `/app/preferences` answers and takes. */
export interface Preferences {
  theme: Theme;
}

const DEFAULTS: Preferences = { theme: "system" };

/** The largest body `PUT /app/preferences` reads: `{"theme":"system"}` is 18 bytes. */
const BODY_LIMIT = 1024;

const isTheme = (value: unknown): value is Theme =>
  typeof value === "string" && (THEMES as readonly string[]).includes(value);

type Ctx = ParameterizedContext<TesseraState<User, string>>;

/**
 * The app's own routes on `ctx.state.session` (issue 14): the page's display preference,
 * kept in the server-side data of the session the request is signed in with. It follows
 * that login, not the account: it survives a reload, and a new login starts from the
 * default. Each route is one round trip to the session store (`getData()`, `mergeData()`)
 * after the authentication, which reads the session itself at no extra cost.
 *
 * - `GET /app/preferences` → `{"theme": "system" | "light" | "dark"}`
 * - `PUT /app/preferences` with `{"theme": …}` → the same, as saved
 *
 * Signed out: 401, as `/users/me`. A cookie request needs the CSRF header, as Tessera's own
 * routes do (`currentUser` checks it). A backend without server-side session data (the JWT
 * one) answers 501 with its code.
 */
export function preferencesRouter(
  tessera: Tessera<User, string>,
): Router<TesseraState<User, string>> {
  const router = new Router<TesseraState<User, string>>({ prefix: "/app" });
  const signedIn = tessera.currentUser({ active: true });

  router.get("/preferences", signedIn, async (ctx) => {
    const session = sessionOf(ctx);
    if (!session) return;
    const data = await session.getData();
    ctx.set("Cache-Control", "no-store");
    ctx.body = { theme: isTheme(data.theme) ? data.theme : DEFAULTS.theme } satisfies Preferences;
  });

  router.put("/preferences", signedIn, async (ctx) => {
    const session = sessionOf(ctx);
    if (!session) return;
    const body = await readJson(ctx);
    if (body === undefined) return;
    const theme = (body as { theme?: unknown } | null)?.theme;
    if (!isTheme(theme)) {
      ctx.status = 422;
      ctx.body = {
        detail: [
          {
            loc: ["body", "theme"],
            msg: `theme must be one of ${THEMES.join(", ")}`,
            type: "enum",
          },
        ],
      };
      return;
    }
    // Merged, not overwritten: other keys an app keeps in the session's data stay.
    const data = await session.mergeData({ theme });
    ctx.set("Cache-Control", "no-store");
    ctx.body = { theme: isTheme(data.theme) ? data.theme : theme } satisfies Preferences;
  });

  return router;
}

/** The request's session, or null having answered 501 (a backend without sessions). */
function sessionOf(ctx: Ctx) {
  const session = ctx.state.session;
  if (session) return session;
  ctx.status = 501;
  ctx.body = { detail: "SESSION_NOT_SUPPORTED" };
  return null;
}

/** The JSON body, or `undefined` having answered 413, 415 or 422. */
async function readJson(ctx: Ctx): Promise<unknown> {
  if (!ctx.is("application/json")) {
    ctx.status = 415;
    ctx.body = { detail: "Send the preferences as application/json." };
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT) {
      ctx.status = 413;
      ctx.body = { detail: "REQUEST_BODY_TOO_LARGE" };
      return undefined;
    }
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    ctx.status = 422;
    ctx.body = { detail: [{ loc: ["body"], msg: "malformed JSON", type: "json_invalid" }] };
    return undefined;
  }
}
