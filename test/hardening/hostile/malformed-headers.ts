// Hostile input (suite.ts): malformed and oversized Authorization headers and cookies, and
// raw-socket framing no client sends (ASVS 5.0 7.2.1, 2.2.1, 4.2.1, 15.2.2).
import { expect, it } from "vitest";
import { rawRequest } from "../../support/client.js";
import { BACKENDS } from "../support.js";
import { expect4xx, FAST_MS, type HostileFixture } from "./fixture.js";

/** Registers its tests in the caller's `describe`, against the fixture's app. */
export function malformedHeaders(h: HostileFixture): void {
  const valid = () => h.tokens.db ?? "";
  const authorizations: [string, () => string][] = [
    ["empty", () => ""],
    ["scheme only", () => "Bearer"],
    ["scheme and spaces", () => "Bearer    "],
    ["another scheme", () => `Basic ${Buffer.from("victim:pw").toString("base64")}`],
    ["Token scheme with a valid token", () => `Token ${valid()}`],
    ["no space after the scheme", () => `Bearer${valid()}`],
    ["two tokens", () => `Bearer ${valid()} ${valid()}`],
    ["a token with a comma list", () => `Bearer ${valid()}, Bearer x`],
    ["characters outside token68", () => "Bearer <script>alert(1)</script>"],
    ["a JSON object", () => 'Bearer {"$ne":null}'],
    ["SQL in the token", () => "Bearer ' OR '1'='1"],
    ["percent-encoded token", () => `Bearer ${encodeURIComponent(`${valid()}==`)}%00`],
    ["latin-1 bytes", () => "Bearer \u00ff\u00fe\u00e9"],
    ["8 KiB + 1 of token", () => `Bearer ${"a".repeat(8193)}`],
    ["just under Node's 16 KiB header limit", () => `Bearer ${"a".repeat(15_000)}`],
  ];
  const cookies: [string, () => string][] = [
    ["name only", () => "tessera_auth"],
    ["empty value", () => "tessera_auth="],
    ["name in another case", () => `TESSERA_AUTH=${h.tokens.cookie}`],
    [
      "a bad value first, the good one second",
      () => `tessera_auth=x; tessera_auth=${h.tokens.cookie}`,
    ],
    ["spaces and semicolons", () => "tessera_auth= ; ; ;"],
    ["percent escapes that do not decode", () => "tessera_auth=%E0%A4%A"],
    ["a JSON object", () => 'tessera_auth={"$ne":null}'],
    ["8 KiB + 1", () => `tessera_auth=${"a".repeat(8193)}`],
    ["500 cookies", () => Array.from({ length: 500 }, (_, i) => `c${i}=${i}`).join("; ")],
    ["latin-1 bytes", () => "tessera_auth=\u00ff\u00e9"],
  ];

  for (const backend of BACKENDS) {
    if (backend.transport === "bearer") {
      it.each(authorizations)(
        `ASVS 5.0 7.2.1, 2.2.1: ${backend.name}: Authorization %s -> 401, fast`,
        async (name, make) => {
          await h.refused(backend, { authorization: make() }, name);
          await h.unchanged();
        },
      );
    } else {
      it.each(cookies)(
        `ASVS 5.0 7.2.1, 2.2.1: ${backend.name}: Cookie %s -> 401, fast`,
        async (name, make) => {
          await h.refused(backend, { cookie: make() }, name);
          await h.unchanged();
        },
      );
    }
  }

  it.each([
    ["Authorization", (n: number) => ({ authorization: `Bearer ${"a".repeat(n)}` })],
    ["Cookie", (n: number) => ({ cookie: `tessera_auth=${"a".repeat(n)}` })],
    [
      "many headers",
      (n: number) =>
        Object.fromEntries(Array.from({ length: n / 100 }, (_, i) => [`x-h${i}`, "v".repeat(90)])),
    ],
  ] as const)(
    "ASVS 5.0 15.2.2: an oversized %s (20 KB, 1 MB) -> 431 from the server, fast",
    async (_name, make) => {
      for (const size of [20_000, 1_000_000]) {
        const res = await h.client.send({ path: "/users/me", headers: make(size) }).catch(
          // Node may answer 431 and close before the client finished writing.
          (error: Error) => ({ status: 431, ms: 0, text: error.message }),
        );
        expect(res.status).toBe(431);
        expect(res.ms).toBeLessThan(FAST_MS);
      }
      await h.unchanged();
    },
  );

  // What no well-behaved client sends, on a raw socket.
  const raw = (lines: string[], body = "") =>
    `${lines.join("\r\n")}\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n${body}`;
  it.each([
    [
      "a bare LF inside the Authorization value",
      () => raw([`GET /users/me HTTP/1.1`, `authorization: Bearer x\nx-injected: 1`]),
    ],
    [
      "a bare CR inside the Authorization value",
      () => raw([`GET /users/me HTTP/1.1`, `authorization: Bearer x\rx-injected: 1`]),
    ],
    [
      "a NUL byte in the Authorization value",
      () => raw([`GET /users/me HTTP/1.1`, `authorization: Bearer ${h.tokens.db}\u0000`]),
    ],
    [
      "an obs-fold continuation line",
      () => raw([`GET /users/me HTTP/1.1`, `authorization: Bearer`, ` ${h.tokens.db}`]),
    ],
    [
      "two Authorization headers, a bad one first",
      () =>
        raw([
          `GET /users/me HTTP/1.1`,
          `authorization: Bearer x`,
          `authorization: Bearer ${h.tokens.db}`,
        ]),
    ],
    [
      "a NUL byte in the Cookie",
      () => raw([`GET /users/me HTTP/1.1`, `cookie: tessera_auth=${h.tokens.cookie}\u0000`]),
    ],
    [
      "a space before the colon",
      () => raw([`GET /users/me HTTP/1.1`, `authorization : Bearer ${h.tokens.db}`]),
    ],
    [
      "Content-Length and Transfer-Encoding together (ASVS 5.0 4.2.1)",
      () =>
        raw(
          [
            "POST /auth/db/login HTTP/1.1",
            "content-type: application/x-www-form-urlencoded",
            "content-length: 4",
            "transfer-encoding: chunked",
          ],
          "0\r\n\r\nGET /users/me HTTP/1.1\r\nhost: x\r\n\r\n",
        ),
    ],
    [
      "two different Content-Length headers (ASVS 5.0 4.2.1)",
      () => raw(["POST /auth/db/login HTTP/1.1", "content-length: 1", "content-length: 20"], "a"),
    ],
  ])("ASVS 5.0 4.2.1, 7.2.1: raw: %s -> 4xx, fast", async (_name, make) => {
    const res = await rawRequest(h.port, Buffer.from(make(), "latin1"));
    expect4xx(res, _name);
    expect(res.ms).toBeLessThan(FAST_MS);
    await h.unchanged();
  });
}
