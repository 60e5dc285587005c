import type { AuthRequest } from "../transport/base.js";

/** A framework-neutral request with the given headers (any case) and cookies. */
export function authRequest(
  headers: Record<string, string> = {},
  cookies: Record<string, string> = {},
): AuthRequest {
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const jar = new Map(Object.entries(cookies));
  return { header: (name) => lower.get(name.toLowerCase()), cookie: (name) => jar.get(name) };
}
