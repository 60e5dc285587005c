// ASVS 5.0 9.1.2, 9.1.3: JWT forgeries against an app that signs with a key pair (RS256)
// and names an issuer — where "HS256 signed with the public key" is the classic attack.
// Its own file: the test app's in-memory store is one per process.
import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app.js";
import { Client } from "../support/client.js";
import type { StoreUser } from "../support/stores.js";
import {
  BACKENDS,
  carry,
  claimsFor,
  freshEmail,
  hs256,
  PASSWORD,
  rs256,
  unsigned,
} from "./support.js";

const FAST_MS = 2000;

function snapshot(user: StoreUser | null) {
  if (!user) return null;
  const { id, email, hashedPassword, isActive, isSuperuser, isVerified } = user;
  return { id, email, hashedPassword, isActive, isSuperuser, isVerified };
}

describe("an app signing with RS256 and an issuer (key confusion, issuer)", () => {
  const ISSUER = "https://auth.tessera.test";
  const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const privatePem = pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const publicPem = pair.publicKey.export({ type: "spki", format: "pem" }).toString();
  const publicDer = pair.publicKey.export({ type: "spki", format: "der" });
  const publicJwk = JSON.stringify(pair.publicKey.export({ format: "jwk" }));
  let rsApp: TestApp;
  let rsClient: Client;
  let id: string;
  let rsBefore: ReturnType<typeof snapshot>;

  beforeAll(async () => {
    rsApp = await startApp({
      redis: true,
      jwt: { algorithm: "RS256", privateKey: privatePem, publicKey: publicPem, issuer: ISSUER },
    });
    rsClient = new Client(rsApp.url);
    const created = await rsClient.json("/auth/register", {
      email: freshEmail(),
      password: PASSWORD,
    });
    id = (created.body as { id: string }).id;
    rsBefore = snapshot(await rsApp.userDb.get(id));
  });
  afterAll(async () => {
    rsClient?.close();
    await rsApp?.close();
  });

  it("ASVS 5.0 9.1.1 control: RS256 with the app's private key and issuer is accepted (JWT backends)", async () => {
    const token = rs256({ alg: "RS256", typ: "JWT" }, claimsFor(id, { iss: ISSUER }), privatePem);
    for (const backend of BACKENDS.filter((b) => b.strategy === "jwt")) {
      expect(
        (await rsClient.send({ path: "/users/me", headers: carry(backend, token) })).status,
      ).toBe(200);
    }
  });

  it.each([
    [
      "HS256 signed with the public key (PEM)",
      () => hs256({ alg: "HS256" }, claimsFor(id, { iss: ISSUER }), publicPem),
    ],
    [
      "HS256 signed with the public key (DER)",
      () => hs256({ alg: "HS256" }, claimsFor(id, { iss: ISSUER }), publicDer),
    ],
    [
      "HS256 signed with the public key (JWK text)",
      () => hs256({ alg: "HS256" }, claimsFor(id, { iss: ISSUER }), publicJwk),
    ],
    [
      "HS256 signed with the PEM minus its trailing newline",
      () => hs256({ alg: "HS256" }, claimsFor(id, { iss: ISSUER }), publicPem.trim()),
    ],
    ["alg none", () => `${unsigned({ alg: "none" }, claimsFor(id, { iss: ISSUER }))}.`],
    [
      "RS256 with another key pair",
      () =>
        rs256(
          { alg: "RS256" },
          claimsFor(id, { iss: ISSUER }),
          generateKeyPairSync("rsa", { modulusLength: 2048 })
            .privateKey.export({ type: "pkcs8", format: "pem" })
            .toString(),
        ),
    ],
    [
      "RS256 with the wrong issuer",
      () => rs256({ alg: "RS256" }, claimsFor(id, { iss: "https://evil.test" }), privatePem),
    ],
    ["RS256 without an issuer", () => rs256({ alg: "RS256" }, claimsFor(id), privatePem)],
    [
      "RS256 with the issuer in an array",
      () => rs256({ alg: "RS256" }, claimsFor(id, { iss: [ISSUER] }), privatePem),
    ],
    [
      "RS256 with the issuer in another case",
      () => rs256({ alg: "RS256" }, claimsFor(id, { iss: ISSUER.toUpperCase() }), privatePem),
    ],
    [
      "the right key, but the header says RS512",
      () => rs256({ alg: "RS512" }, claimsFor(id, { iss: ISSUER }), privatePem),
    ],
  ])("ASVS 5.0 9.1.2, 9.1.3: %s -> 401 on every backend, nothing changes", async (name, make) => {
    const token = make();
    for (const backend of BACKENDS) {
      for (const call of [
        () => rsClient.send({ path: "/users/me", headers: carry(backend, token) }),
        () => rsClient.json("/users/me", { is_superuser: true }, carry(backend, token), "PATCH"),
      ]) {
        const res = await call();
        expect(res.status, `${backend.name}: ${name}`).toBe(401);
        expect(res.ms).toBeLessThan(FAST_MS);
      }
    }
    expect(snapshot(await rsApp.userDb.get(id))).toEqual(rsBefore);
  });
});
