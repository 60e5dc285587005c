import { generateKeyPairSync } from "node:crypto";
import type { AddressInfo } from "node:net";
import { ConfigurationError } from "@tessera/core";
import { JwtKeySet } from "@tessera/strategy-jwt";
import Koa from "koa";
import { afterAll, describe, expect, it } from "vitest";
import { buildDocument } from "../openapi/document.js";
import { userReadSchema } from "../openapi/json-schema.js";
import { OpenAPIRegistry } from "../openapi/registry.js";
import type { TesseraRouter } from "../route/router.js";
import { JWKS_PATH, type JwksSource, jwksRouter } from "./jwks.js";

const SECRET = "jwks-router-test-secret-at-least-32-bytes";
const es256 = () => generateKeyPairSync("ec", { namedCurve: "P-256" });
const current = new JwtKeySet([
  { privateKey: es256().privateKey },
  { secret: SECRET },
  { publicKey: generateKeyPairSync("ed25519").publicKey, kid: "previous" },
]);

const servers: { close(): void }[] = [];
afterAll(() => {
  for (const server of servers) server.close();
});

/** The router on a real Koa server on loopback; its base URL. */
async function serve(router: TesseraRouter): Promise<string> {
  const app = new Koa();
  app.use(router.routes());
  const server = app.listen(0, "127.0.0.1");
  servers.push(server);
  await new Promise((resolve) => server.once("listening", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("jwksRouter", () => {
  it("answers the public keys with cache headers and an ETag", async () => {
    const base = await serve(jwksRouter(current));
    const response = await fetch(`${base}${JWKS_PATH}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("public, max-age=300");
    expect(response.headers.get("etag")).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    expect(await response.json()).toEqual(current.publicJwks());
  });

  it("never publishes a secret: HS256 keys and private members stay out (ASVS 9.1.1)", async () => {
    const base = await serve(jwksRouter(current));
    const text = await (await fetch(`${base}${JWKS_PATH}`)).text();
    const { keys } = JSON.parse(text) as { keys: Record<string, unknown>[] };
    expect(keys.map((k) => k.kid)).toEqual([current.currentKid, "previous"]);
    expect(text).not.toContain(current.kids[1]);
    for (const member of ["d", "p", "q", "dp", "dq", "qi", "k"]) {
      for (const key of keys) expect(key).not.toHaveProperty(member);
    }
  });

  it("answers 304 without a body to a matching If-None-Match, 200 to another", async () => {
    const base = await serve(jwksRouter(current, { maxAgeSeconds: 60 }));
    const first = await fetch(`${base}${JWKS_PATH}`);
    const etag = first.headers.get("etag") as string;
    const again = await fetch(`${base}${JWKS_PATH}`, { headers: { "If-None-Match": etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
    expect(again.headers.get("cache-control")).toBe("public, max-age=60");
    expect(await again.text()).toBe("");
    const stale = await fetch(`${base}${JWKS_PATH}`, { headers: { "If-None-Match": '"other"' } });
    expect(stale.status).toBe(200);
  });

  it("merges key sets in order, each kid once", async () => {
    const other = new JwtKeySet([{ privateKey: generateKeyPairSync("ed25519").privateKey }]);
    const base = await serve(jwksRouter([current, other, current], { prefix: "/auth" }));
    const body = (await (await fetch(`${base}/auth${JWKS_PATH}`)).json()) as {
      keys: { kid: string }[];
    };
    expect(body.keys.map((k) => k.kid)).toEqual([current.currentKid, "previous", other.currentKid]);
  });

  it("answers HEAD, and 405 to other methods", async () => {
    const base = await serve(jwksRouter(current));
    expect((await fetch(`${base}${JWKS_PATH}`, { method: "HEAD" })).status).toBe(200);
    const post = await fetch(`${base}${JWKS_PATH}`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toContain("GET");
  });

  it.each<[string, () => unknown]>([
    ["an HS256-only key set", () => new JwtKeySet([{ secret: SECRET }])],
    ["no key set", () => []],
    ["something that is no key set", () => ({})],
    [
      "a private member in a published key",
      () => ({ publicJwks: () => ({ keys: [{ kty: "EC", kid: "x", d: "secret" }] }) }),
    ],
    [
      "two keys with one kid",
      () => [
        { publicJwks: () => ({ keys: [{ kty: "EC", kid: "x", x: "1" }] }) },
        { publicJwks: () => ({ keys: [{ kty: "EC", kid: "x", x: "2" }] }) },
      ],
    ],
  ])("refuses %s at construction", (_name, sources) => {
    expect(() => jwksRouter(sources() as JwksSource)).toThrow(ConfigurationError);
  });

  it("refuses a negative or fractional max age", () => {
    expect(() => jwksRouter(current, { maxAgeSeconds: -1 })).toThrow(ConfigurationError);
    expect(() => jwksRouter(current, { maxAgeSeconds: 1.5 })).toThrow(ConfigurationError);
  });

  it("is described in the OpenAPI document once recorded", () => {
    const registry = new OpenAPIRegistry();
    registry.record(jwksRouter(current, { prefix: "/auth" }));
    const document = buildDocument(
      registry,
      [],
      { csrf: null, rateLimiter: null, readSchema: userReadSchema, facts: {} },
      {},
    );
    const operation = document.paths[`/auth${JWKS_PATH}`]?.get;
    expect(operation?.operationId).toBe("jwks:get");
    expect(operation?.security).toBeUndefined();
    expect(operation?.responses["200"]?.content?.["application/json"]?.schema).toEqual({
      $ref: "#/components/schemas/JsonWebKeySet",
    });
    expect(document.components?.schemas?.JsonWebKeySet).toBeDefined();
    expect(document.paths[`/auth${JWKS_PATH}`]?.head).toBeUndefined();
  });
});
