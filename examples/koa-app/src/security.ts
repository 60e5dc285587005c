import { Router } from "@koa/router";
import type { Tessera, TesseraState } from "@tessera/koa";
import QRCode from "qrcode";
import type { User } from "./db/index.js";

/** The largest body `POST /app/qr-code` reads: an `otpauth://` URI is about 150 bytes. */
const BODY_LIMIT = 1024;

/**
 * The page's Security panel:
 *
 * - `GET /app/security` → `{"passkeys": true}`: whether passkeys are on (see
 *   `passkeysAvailable`), so the page shows their buttons only when they work.
 * - `POST /app/qr-code` with `{"uri": "otpauth://…"}` → `{"image": "data:image/svg+xml;base64,…"}`:
 *   the TOTP enrolment's URI as a QR code for an authenticator app to scan, drawn on the
 *   server with [qrcode](https://github.com/soldair/node-qrcode) (the page shows it in an
 *   `<img>`, which its CSP allows from `data:`). A POST for the signed-in user only, answered
 *   `no-store`: the URI holds the TOTP secret, so it never goes in a URL, a log or a cache.
 */
export function securityRouter(
  tessera: Tessera<User, string>,
  features: { passkeys: boolean },
): Router<TesseraState<User, string>> {
  const router = new Router<TesseraState<User, string>>({ prefix: "/app" });
  router.get("/security", (ctx) => {
    ctx.body = { passkeys: features.passkeys };
  });
  router.post("/qr-code", tessera.currentUser({ active: true }), async (ctx) => {
    ctx.set("Cache-Control", "no-store");
    const uri = await readUri(ctx.req as AsyncIterable<Buffer>, ctx.is("application/json"));
    if (uri === undefined) {
      ctx.status = 422;
      ctx.body = {
        detail: [{ loc: ["body", "uri"], msg: "an otpauth:// URI", type: "value_error" }],
      };
      return;
    }
    const svg = await QRCode.toString(uri, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
    ctx.body = { image: `data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}` };
  });
  return router;
}

/** The body's `uri` when it is JSON, small, and an `otpauth://` URI; else `undefined`. */
async function readUri(
  req: AsyncIterable<Buffer>,
  json: string | false | null,
): Promise<string | undefined> {
  if (!json) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > BODY_LIMIT) return undefined;
    chunks.push(chunk);
  }
  try {
    const { uri } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { uri?: unknown };
    return typeof uri === "string" && uri.startsWith("otpauth://") ? uri : undefined;
  } catch {
    return undefined;
  }
}
