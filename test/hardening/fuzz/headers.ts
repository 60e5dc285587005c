// Fuzzing (fuzz.test.ts): generated header values, tokens, cookies and content types. Tokens
// are drawn as references (`{{user.db}}`), filled in when sent with whatever identities are
// alive then (FuzzTarget.resolve).
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { BACKENDS, claimsFor, hs256 } from "../support.js";

/** A header value Node's client accepts: tab, printable ASCII and Latin-1. */
const headerText = (max = 60) =>
  fc.string({
    unit: fc
      .integer({ min: 0x20, max: 0xff })
      .filter((c) => c !== 0x7f)
      .map((c) => String.fromCharCode(c)),
    maxLength: max,
  });

const b64url = fc.base64String({ maxLength: 60 }).map((s) => s.replace(/[+/=]/g, "_"));

const tokenRef = fc.constantFrom(
  ...["user", "admin"].flatMap((who) => BACKENDS.map((b) => `{{${who}.${b.name}}}`)),
);

/** A token: a live one, one slightly broken, a JWT-shaped fake, or garbage. */
export const tokenish = fc.oneof(
  { weight: 4, arbitrary: tokenRef },
  { weight: 1, arbitrary: fc.tuple(tokenRef, headerText(3)).map(([t, s]) => `${t}${s}`) },
  { weight: 1, arbitrary: tokenRef.map((t) => `${t}`.slice(0, -2)) },
  { weight: 2, arbitrary: fc.tuple(b64url, b64url, b64url).map((p) => p.join(".")) },
  {
    weight: 1,
    arbitrary: fc
      .record({ alg: fc.constantFrom("none", "HS256", "hs256", "RS256", "NONE"), sub: fc.string() })
      .map(({ alg, sub }) => hs256({ alg }, claimsFor(sub), randomBytes(4))),
  },
  { weight: 2, arbitrary: headerText(80) },
);

const authorization = fc.oneof(
  { weight: 5, arbitrary: tokenish.map((t) => `Bearer ${t}`) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom("bearer", "BEARER", "Basic", "Token", ""), tokenish)
      .map(([s, t]) => `${s} ${t}`),
  },
  { weight: 1, arbitrary: headerText(120) },
);

const cookie = fc.oneof(
  { weight: 4, arbitrary: tokenish.map((t) => `tessera_auth=${t}; tessera_csrf={{csrf}}`) },
  { weight: 2, arbitrary: tokenish.map((t) => `tessera_auth=${t}`) },
  {
    weight: 1,
    arbitrary: fc
      .array(
        fc.tuple(fc.constantFrom("tessera_auth", "tessera_csrf", "a", "", " "), headerText(30)),
        { maxLength: 4 },
      )
      .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join("; ")),
  },
  { weight: 1, arbitrary: headerText(100) },
);

/** A content type: the ones the routes read, their near misses, and none. */
export const contentType = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-8",
  "application/x-www-form-urlencoded",
  "application/merge-patch+json",
  "text/plain",
  "multipart/form-data; boundary=x",
  "application/JSON",
  "",
  "application/x-www-form-urlencoded; charset=latin1",
);

/** Request headers, each present or not: credentials, CSRF, origin, proxy hops, noise. */
export const headers = fc.record(
  {
    authorization,
    cookie,
    "x-csrf-token": fc.oneof(fc.constant("{{csrf}}"), headerText(40)),
    origin: fc.oneof(
      fc.constantFrom("{{origin}}", "https://evil.example", "null", "http://127.0.0.1", "x"),
      headerText(40),
    ),
    host: fc.oneof(
      fc.constantFrom("{{host}}", "evil.example", "127.0.0.1:1", "[::1]:80", "a b", "", ":::"),
      headerText(30),
    ),
    "sec-fetch-site": fc.constantFrom("same-origin", "cross-site", "same-site", "none", "??"),
    // The app trusts loopback as its proxy: these are parsed, hop by hop, from the right.
    "x-forwarded-for": fc
      .array(
        fc.oneof(
          fc.ipV4(),
          fc.ipV6(),
          fc.ipV4().map((ip) => `${ip}:${Math.floor(Math.random() * 65536)}`),
          fc.ipV6().map((ip) => `[${ip}]:443`),
          fc.constantFrom(
            "unknown",
            "::ffff:1.2.3.4",
            "fe80::1%eth0",
            "1:2:3:4:5:6::1.2.3.4",
            "",
            " ",
          ),
          headerText(20),
        ),
        { maxLength: 5 },
      )
      .map((hops) => hops.join(", ")),
    accept: fc.constantFrom("application/json", "*/*", "text/html", ""),
    "x-fuzz": headerText(200),
  },
  { requiredKeys: [] },
);
