// Hostile input (suite.ts): JWTs an attacker makes, refused on every transport × strategy;
// keys a header names are never fetched; a token works in its own backend only (ASVS 5.0 9.1,
// 9.2, 7.2.1, 15.3.5).
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { RESET_SECRET, VERIFY_SECRET } from "../../support/app.js";
import { BACKENDS, carry, claimsFor, hs256, rs256, unsigned } from "../support.js";
import type { HostileFixture } from "./fixture.js";

/** Registers its tests in the caller's `describe`, against the fixture's app. */
export function forgedTokens(h: HostileFixture): void {
  // Control: the forger is right. A token signed with the app's own key is accepted by
  // the JWT backends, so each forgery below is refused for what it changes, nothing else.
  it("ASVS 5.0 9.1.1 control: a JWT with the app's key and the strategy's claims is accepted (JWT backends)", async () => {
    const token = hs256({ alg: "HS256", typ: "JWT" }, claimsFor(h.victim.id));
    for (const backend of BACKENDS.filter((b) => b.strategy === "jwt")) {
      const res = await h.client.send({ path: "/users/me", headers: carry(backend, token) });
      expect(res.status).toBe(200);
    }
  });

  const attacker = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const attackerPrivate = attacker.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const attackerJwk = attacker.publicKey.export({ format: "jwk" });
  const now = () => Math.floor(Date.now() / 1000);
  const HS = { alg: "HS256", typ: "JWT" };

  // Each forgery: a name and how to build it for the victim (built at test time).
  const forgeries: [string, () => string][] = [
    // ASVS 5.0 9.1.2: 'none' in every spelling, with and without a signature part.
    ...["none", "None", "NONE", "nOnE", "none ", " none"].map((alg): [string, () => string] => [
      `alg "${alg}" without a signature`,
      () => `${unsigned({ alg, typ: "JWT" }, claimsFor(h.victim.id))}.`,
    ]),
    ["alg none with no third part", () => unsigned({ alg: "none" }, claimsFor(h.victim.id))],
    [
      "alg none carrying a valid HS256 signature",
      () => {
        const good = hs256(HS, claimsFor(h.victim.id)).split(".")[2];
        return `${unsigned({ alg: "none", typ: "JWT" }, claimsFor(h.victim.id))}.${good}`;
      },
    ],
    // Case games with the right key: only the exact configured algorithm verifies.
    ...["hs256", "Hs256", "HS256 ", "HS384", "HS512"].map((alg): [string, () => string] => [
      `alg "${alg}" signed with the app's own secret`,
      () => hs256({ alg, typ: "JWT" }, claimsFor(h.victim.id)),
    ]),
    ["alg missing from the header", () => hs256({ typ: "JWT" }, claimsFor(h.victim.id))],
    ["alg as an array", () => hs256({ alg: ["HS256"] }, claimsFor(h.victim.id))],
    // ASVS 5.0 9.1.1: signatures that do not verify.
    ["signed with another secret", () => hs256(HS, claimsFor(h.victim.id), randomBytes(32))],
    ["signed with an empty secret", () => hs256(HS, claimsFor(h.victim.id), "")],
    [
      "a valid token with its payload swapped",
      () => {
        const [head, , s] = hs256(HS, claimsFor(randomBytes(4).toString("hex"))).split(".");
        const payload = unsigned(HS, claimsFor(h.victim.id)).split(".")[1];
        return `${head}.${payload}.${s}`;
      },
    ],
    [
      // Not the last character: its low bits are padding, which base64url decoders drop.
      "a valid token with one signature character changed",
      () => {
        const t = hs256(HS, claimsFor(h.victim.id));
        const at = t.length - 5;
        return `${t.slice(0, at)}${t[at] === "A" ? "B" : "A"}${t.slice(at + 1)}`;
      },
    ],
    ["a valid token truncated", () => hs256(HS, claimsFor(h.victim.id)).slice(0, -10)],
    ["a valid token with a fourth part", () => `${hs256(HS, claimsFor(h.victim.id))}.AAAA`],
    // ASVS 5.0 9.1.3: keys named by the token itself are never used.
    [
      "RS256 signed with the attacker's key, which the jwk header embeds",
      () => rs256({ alg: "RS256", jwk: attackerJwk }, claimsFor(h.victim.id), attackerPrivate),
    ],
    [
      "HS256 with a jwk header holding an attacker's symmetric key",
      () => {
        const k = randomBytes(32);
        return hs256(
          { alg: "HS256", jwk: { kty: "oct", k: k.toString("base64url") } },
          claimsFor(h.victim.id),
          k,
        );
      },
    ],
    [
      "kid path traversal to /dev/null, signed with an empty key",
      () => hs256({ alg: "HS256", kid: "../../../../../../dev/null" }, claimsFor(h.victim.id), ""),
    ],
    [
      "kid SQL injection selecting a known key",
      () => hs256({ alg: "HS256", kid: "x' UNION SELECT 'k' -- " }, claimsFor(h.victim.id), "k"),
    ],
    // ASVS 5.0 9.1.2: critical extensions the verifier does not understand.
    [
      "crit naming an unknown extension",
      () => hs256({ ...HS, crit: ["tessera-x"], "tessera-x": 1 }, claimsFor(h.victim.id)),
    ],
    [
      "crit naming a registered header",
      () => hs256({ ...HS, crit: ["alg"] }, claimsFor(h.victim.id)),
    ],
    [
      "crit b64=false (unencoded payload)",
      () => hs256({ ...HS, crit: ["b64"], b64: false }, claimsFor(h.victim.id)),
    ],
    // ASVS 5.0 9.2.3: audience.
    ["aud of another service", () => hs256(HS, claimsFor(h.victim.id, { aud: "billing" }))],
    ["aud missing", () => hs256(HS, claimsFor(h.victim.id, { aud: undefined }))],
    ["aud as a number", () => hs256(HS, claimsFor(h.victim.id, { aud: 1 }))],
    ["aud as an object", () => hs256(HS, claimsFor(h.victim.id, { aud: { $ne: null } }))],
    // ASVS 5.0 9.2.1: validity time span.
    ["exp one second ago", () => hs256(HS, claimsFor(h.victim.id, { exp: now() - 1 }))],
    ["exp exactly now", () => hs256(HS, claimsFor(h.victim.id, { exp: now() }))],
    ["exp missing", () => hs256(HS, claimsFor(h.victim.id, { exp: undefined }))],
    ["exp as a string", () => hs256(HS, claimsFor(h.victim.id, { exp: String(now() + 3600) }))],
    ["exp as null", () => hs256(HS, claimsFor(h.victim.id, { exp: null }))],
    ["exp as NaN-ish text", () => hs256(HS, claimsFor(h.victim.id, { exp: "NaN" }))],
    ["exp negative", () => hs256(HS, claimsFor(h.victim.id, { exp: -1 }))],
    ["nbf a minute ahead", () => hs256(HS, claimsFor(h.victim.id, { nbf: now() + 60 }))],
    ["nbf as a string", () => hs256(HS, claimsFor(h.victim.id, { nbf: "0" }))],
    // ASVS 5.0 15.3.5: claim types are checked, not coerced.
    ["sub as an array", () => hs256(HS, claimsFor(h.victim.id, { sub: [h.victim.id] }))],
    ["sub as an object", () => hs256(HS, claimsFor(h.victim.id, { sub: { $ne: null } }))],
    ["sub as a number", () => hs256(HS, claimsFor(h.victim.id, { sub: 1 }))],
    ["sub empty", () => hs256(HS, claimsFor(h.victim.id, { sub: "" }))],
    ["sub missing", () => hs256(HS, claimsFor(h.victim.id, { sub: undefined }))],
    ["jti as a number", () => hs256(HS, claimsFor(h.victim.id, { jti: 1 }))],
    ["jti missing", () => hs256(HS, claimsFor(h.victim.id, { jti: undefined }))],
    ["iat_ms as a string", () => hs256(HS, claimsFor(h.victim.id, { iat_ms: String(Date.now()) }))],
    ["iat_ms fractional", () => hs256(HS, claimsFor(h.victim.id, { iat_ms: Date.now() + 0.5 }))],
    ["payload a JSON array", () => hs256(HS, [claimsFor(h.victim.id)])],
    [
      "payload a JSON string",
      () => hs256(HS, JSON.stringify(JSON.stringify(claimsFor(h.victim.id)))),
    ],
    ["payload not JSON", () => hs256(HS, "not json")],
    ["header not JSON", () => hs256("{alg:HS256", claimsFor(h.victim.id))],
    // ASVS 5.0 9.2.2: tokens of the other purposes, signed with their own secrets.
    [
      "a verify token (its own secret and audience)",
      () =>
        hs256(
          HS,
          claimsFor(h.victim.id, { aud: "tessera:verify", email: h.victim.email }),
          VERIFY_SECRET,
        ),
    ],
    [
      "a reset token (its own secret and audience)",
      () => hs256(HS, claimsFor(h.victim.id, { aud: "tessera:reset" }), RESET_SECRET),
    ],
    [
      "the app's secret, but the verify audience",
      () => hs256(HS, claimsFor(h.victim.id, { aud: "tessera:verify" })),
    ],
    // ASVS 5.0 15.2.2: a token larger than any we issue is not parsed.
    ["a 9 KB payload", () => hs256(HS, claimsFor(h.victim.id, { pad: "x".repeat(9 * 1024) }))],
    [
      "a 7 KB payload with a bad signature",
      () => hs256(HS, claimsFor(h.victim.id, { pad: "x".repeat(7 * 1024) }), "wrong"),
    ],
  ];

  for (const backend of BACKENDS) {
    describe(`${backend.transport} + ${backend.strategy} (${backend.name})`, () => {
      it.each(forgeries)(
        "ASVS 5.0 9.1.1, 9.1.2, 9.1.3, 9.2.1, 9.2.2, 9.2.3, 15.3.5: %s -> 401, fast, nothing changes",
        async (name, make) => {
          await h.refused(backend, carry(backend, make()), name);
          await h.unchanged();
        },
      );
    });
  }

  it("ASVS 5.0 9.1.3: a jku/x5u header is never fetched — the named server sees no request", async () => {
    const requests: string[] = [];
    const jwks: Server = createServer((req, res) => {
      requests.push(req.url ?? "");
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ keys: [{ ...attackerJwk, kid: "k", alg: "RS256", use: "sig" }] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
    try {
      for (const header of [
        { alg: "RS256", kid: "k", jku: url },
        { alg: "RS256", kid: "k", x5u: url },
        { alg: "HS256", kid: "k", jku: url },
      ]) {
        const token = rs256(header, claimsFor(h.victim.id), attackerPrivate);
        for (const backend of BACKENDS) await h.refused(backend, carry(backend, token), "jku");
      }
      expect(requests).toEqual([]);
    } finally {
      jwks.close();
    }
    await h.unchanged();
  });

  it("ASVS 5.0 7.2.1: a token of one backend cannot log out through another", async () => {
    for (const from of BACKENDS) {
      for (const to of BACKENDS) {
        if (from.name === to.name) continue;
        // The JWT backends share one strategy: a JWT is theirs on either transport.
        if (from.strategy === to.strategy) continue;
        // Presented in the target's transport: the target's strategy does not know it.
        const headers = carry(to, h.tokens[from.name] ?? "");
        const res = await h.client.send({
          method: "POST",
          path: `/auth/${to.name}/logout`,
          headers,
        });
        expect(res.status, `${from.name} token -> ${to.name} logout`).toBe(401);
      }
    }
    for (const backend of BACKENDS) {
      const res = await h.client.send({
        path: "/users/me",
        headers: h.victim.sessions[backend.name],
      });
      expect(res.status, `${backend.name} session still valid`).toBe(200);
    }
    await h.unchanged();
  });

  it("ASVS 5.0 7.2.1: a stored digest presented as a token matches nothing", async () => {
    const digests = await h.app.tokenDigests();
    expect(digests.length).toBeGreaterThan(0);
    for (const backend of BACKENDS) {
      for (const digest of digests) await h.refused(backend, carry(backend, digest), "digest");
    }
    await h.unchanged();
  });
}
