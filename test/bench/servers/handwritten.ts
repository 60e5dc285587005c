// What the hand-written reference servers share: the request's Bearer token, its SHA-256
// digest as such code is usually written (Tessera stores tokens by the same digest), and
// the lifetime rule of Tessera's token rows.
import { createHash } from "node:crypto";
import type Koa from "koa";

/** The token of an `Authorization: Bearer <token>` header, or null. */
export const bearerToken = (ctx: Koa.Context): string | null => {
  const h = ctx.get("authorization");
  return h.startsWith("Bearer ") ? h.slice(7) : null;
};
export const digest = (t: string) => createHash("sha256").update(t).digest("hex");
/** Whether a token created at `created`, living `lifetime` seconds, is still live. */
export const live = (created: Date, lifetime: number) =>
  created.getTime() + lifetime * 1000 > Date.now();
