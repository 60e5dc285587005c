import { readFile } from "node:fs/promises";
import { Router } from "@koa/router";

/** The page's files, beside `src/` and `dist/`. */
const PUBLIC_DIR = new URL("../public/", import.meta.url);

// A fixed list, not a directory served by path: nothing but these files can be read.
const FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/verify": { file: "verify.html", type: "text/html; charset=utf-8" },
  "/reset-password": { file: "reset-password.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
};

const SECURITY_HEADERS = {
  // Only our own script and styles run: an injected <script> or inline handler does not.
  "Content-Security-Policy":
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  // /verify and /reset-password carry a token in the URL: never send it to another site.
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-cache",
};

/**
 * The web page: plain HTML, CSS and one script, no build step. Read from disk on each
 * request, so an edit shows on reload.
 */
export function pagesRouter(): Router {
  const router = new Router();
  for (const [path, { file, type }] of Object.entries(FILES)) {
    router.get(path, async (ctx) => {
      ctx.set(SECURITY_HEADERS);
      ctx.type = type;
      ctx.body = await readFile(new URL(file, PUBLIC_DIR));
    });
  }
  return router;
}
