// Shared helpers of the hardening suite (test/hardening): the backends of the test app and
// how to log in through each, a JWT forger, and small statistics. Requests go through the
// tests' one client (test/support/client.ts).
import { createHmac, createSign, randomBytes } from "node:crypto";
import { SECRET } from "../support/app.js";
import type { Client } from "../support/client.js";

/** A backend of the test app (`startApp({ redis: true })`): transport × strategy. */
export interface Backend {
  name: "jwt" | "cookie" | "db" | "redis";
  transport: "bearer" | "cookie";
  strategy: "jwt" | "database" | "redis";
}

export const BACKENDS: readonly Backend[] = [
  { name: "jwt", transport: "bearer", strategy: "jwt" },
  { name: "cookie", transport: "cookie", strategy: "jwt" },
  { name: "db", transport: "bearer", strategy: "database" },
  { name: "redis", transport: "bearer", strategy: "redis" },
];

/** Backends whose tokens have server-side state, so a logout can be checked in the store. */
export const STATEFUL: readonly Backend[] = BACKENDS;

export const PASSWORD = "correct horse battery";

/** The headers that present `token` in `backend`'s transport. */
export function carry(backend: Backend, token: string): Record<string, string> {
  return backend.transport === "cookie"
    ? { cookie: `tessera_auth=${token}` }
    : { authorization: `Bearer ${token}` };
}

/** Logs in through `backend` and returns the raw token and the headers that carry it. */
export async function login(
  client: Client,
  backend: Backend,
  email: string,
  password = PASSWORD,
): Promise<{ token: string; headers: Record<string, string> }> {
  const res = await client.form(`/auth/${backend.name}/login`, { username: email, password });
  if (backend.transport === "cookie") {
    if (res.status !== 204) throw new Error(`login failed: ${res.status} ${res.text}`);
    const cookies = res.headers.getSetCookie().map((c) => c.split(";")[0] ?? "");
    const token = cookies.find((c) => c.startsWith("tessera_auth="))?.slice(13) ?? "";
    const csrf = cookies.find((c) => c.startsWith("tessera_csrf="))?.slice(13) ?? "";
    return { token, headers: { cookie: cookies.join("; "), "x-csrf-token": csrf } };
  }
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
  const token = (res.body as { access_token: string }).access_token;
  return { token, headers: carry(backend, token) };
}

/** A fresh, unique email address. */
export function freshEmail(tag = "user"): string {
  return `${tag}-${randomBytes(5).toString("hex")}@example.com`;
}

// ---------------------------------------------------------------------------------------
// JWT forgery: tokens built byte by byte, so header and claims can be anything.

const b64url = (input: string | Buffer) => Buffer.from(input).toString("base64url");

/** `header.payload` with both parts JSON-encoded as given (or raw strings as given). */
export function unsigned(header: unknown, payload: unknown): string {
  const part = (v: unknown) => b64url(typeof v === "string" ? v : JSON.stringify(v));
  return `${part(header)}.${part(payload)}`;
}

/** An HS256 signature over `header.payload` with `key` (the app's secret by default). */
export function hs256(header: unknown, payload: unknown, key: string | Buffer = SECRET): string {
  const input = unsigned(header, payload);
  return `${input}.${createHmac("sha256", key).update(input).digest("base64url")}`;
}

/** An RS256 signature with a PEM private key. */
export function rs256(header: unknown, payload: unknown, privateKeyPem: string): string {
  const input = unsigned(header, payload);
  return `${input}.${createSign("RSA-SHA256").update(input).sign(privateKeyPem, "base64url")}`;
}

/** The claims the JWT strategy writes and requires, valid now for `sub`. */
export function claimsFor(sub: string, extra: Record<string, unknown> = {}) {
  const now = Date.now();
  const iat = Math.floor(now / 1000);
  return {
    sub,
    aud: ["tessera:auth"],
    iat,
    iat_ms: now,
    exp: iat + 3600,
    jti: randomBytes(16).toString("base64url"),
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------
// Statistics.

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.floor(q * (s.length - 1))))] as number;
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 erf; error < 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/**
 * Mann–Whitney U test of `a` against `b` (normal approximation with tie correction).
 * `auc` is the common-language effect size P(a > b) + P(a = b)/2: 0.5 when neither
 * tends to be larger, 0 or 1 when they separate completely.
 */
export function mannWhitney(
  a: readonly number[],
  b: readonly number[],
): { u: number; z: number; p: number; auc: number } {
  const all = [...a.map((v) => ({ v, g: 0 })), ...b.map((v) => ({ v, g: 1 }))].sort(
    (x, y) => x.v - y.v,
  );
  const n1 = a.length;
  const n2 = b.length;
  const n = n1 + n2;
  let rankSumA = 0;
  let tieTerm = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && all[j + 1]?.v === all[i]?.v) j++;
    const rank = (i + j) / 2 + 1;
    const t = j - i + 1;
    tieTerm += t ** 3 - t;
    for (let k = i; k <= j; k++) if (all[k]?.g === 0) rankSumA += rank;
    i = j + 1;
  }
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const sd = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  const z = sd === 0 ? 0 : (u - mean) / sd;
  return { u, z, p: 2 * (1 - normalCdf(Math.abs(z))), auc: u / (n1 * n2) };
}

/** Two-sample Kolmogorov–Smirnov test: D and its asymptotic p-value. */
export function kolmogorovSmirnov(
  a: readonly number[],
  b: readonly number[],
): { d: number; p: number } {
  const sa = [...a].sort((x, y) => x - y);
  const sb = [...b].sort((x, y) => x - y);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < sa.length && j < sb.length) {
    const v = Math.min(sa[i] as number, sb[j] as number);
    while (i < sa.length && (sa[i] as number) <= v) i++;
    while (j < sb.length && (sb[j] as number) <= v) j++;
    d = Math.max(d, Math.abs(i / sa.length - j / sb.length));
  }
  const ne = (sa.length * sb.length) / (sa.length + sb.length);
  const lambda = (Math.sqrt(ne) + 0.12 + 0.11 / Math.sqrt(ne)) * d;
  let p = 0;
  for (let k = 1; k <= 100; k++) p += 2 * (-1) ** (k - 1) * Math.exp(-2 * k * k * lambda * lambda);
  return { d, p: Math.min(1, Math.max(0, p)) };
}

/** Runs `task(i)` for i < count with at most `limit` at a time; results in order. */
export async function pool<T>(
  count: number,
  limit: number,
  task: (i: number) => Promise<T>,
): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return results;
}
