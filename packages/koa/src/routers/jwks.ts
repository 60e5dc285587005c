import { createHash } from "node:crypto";
import { ConfigurationError } from "@tessera/core";
import type { Context } from "koa";
import { ROUTE_SPEC, type SpecMiddleware } from "../route/mount.js";
import { TesseraRouter } from "../route/router.js";
import { publicRoute, type RouteSpec } from "../route/spec.js";

/** Where {@link jwksRouter} serves the JWK Set: the conventional well-known path (RFC 8615). */
export const JWKS_PATH = "/.well-known/jwks.json";

/** A public JWK as a key set publishes it. */
export interface JwksKey {
  kty: string;
  kid?: string;
  [member: string]: unknown;
}

/**
 * Anything that publishes public signing keys: `@tessera/strategy-jwt`'s `JwtKeySet`, so
 * a strategy's `keys` (`jwtStrategy.keys`).
 */
export interface JwksSource {
  publicJwks(): { keys: readonly JwksKey[] };
}

/** Options of {@link jwksRouter}. */
export interface JwksRouterOptions {
  /** Path prefix of the route. @default "" (the route is `/.well-known/jwks.json`) */
  prefix?: string;
  /**
   * `Cache-Control: public, max-age=` this: how long a verifier may keep the keys. A new
   * key must be published at least this long before it signs (see the rotation procedure).
   * @default 300
   */
  maxAgeSeconds?: number;
}

// Members that only a private or symmetric JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

const JWK_SET_SCHEMA = {
  type: "object",
  description: "A JWK Set (RFC 7517 §5) of the public signing keys, current key first.",
  required: ["keys"],
  properties: {
    keys: {
      type: "array",
      items: {
        type: "object",
        required: ["kty", "kid", "use"],
        properties: {
          kty: { type: "string", enum: ["RSA", "EC", "OKP"] },
          kid: { type: "string" },
          alg: { type: "string", enum: ["RS256", "ES256", "EdDSA"] },
          use: { type: "string", const: "sig" },
          n: { type: "string" },
          e: { type: "string" },
          crv: { type: "string" },
          x: { type: "string" },
          y: { type: "string" },
        },
      },
    },
  },
};

/**
 * `GET /.well-known/jwks.json`: the public keys of one or more key sets as one JWK Set
 * (merged in order, deduplicated by `kid`), so another service verifies Tessera's access
 * tokens with any JOSE library (`jose`'s `createRemoteJWKSet`). Answers `application/json`
 * with `Cache-Control: public, max-age=<maxAgeSeconds>` and a strong `ETag`; a request
 * whose `If-None-Match` matches gets `304`. The keys are read once, here: key sets are
 * immutable, so a rotation is a new key set and a new router (a restart).
 *
 * Throws a `ConfigurationError` for a key set with no public key (an HS256 secret is never
 * published: a verifier needs the secret itself), a private member in a published JWK, or
 * two sets giving one `kid` to different keys.
 *
 * @example
 * app.use(jwksRouter(jwtStrategy.keys).routes());
 * app.use(jwksRouter([jwtStrategy.keys, refreshStrategy.keys], { maxAgeSeconds: 600 }).routes());
 */
export function jwksRouter(
  sources: JwksSource | readonly JwksSource[],
  options: JwksRouterOptions = {},
): TesseraRouter {
  const maxAge = options.maxAgeSeconds ?? 300;
  if (!Number.isSafeInteger(maxAge) || maxAge < 0) {
    throw new ConfigurationError(
      `jwksRouter: maxAgeSeconds must be a non-negative integer (got ${maxAge})`,
    );
  }
  // Serialized once: every answer is the same bytes, so the ETag is computed once too.
  const body = JSON.stringify(jwkSet(Array.isArray(sources) ? sources : [sources]));
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 32)}"`;
  const cacheControl = `public, max-age=${maxAge}`;
  const headers = (ctx: Context) => {
    ctx.set("Cache-Control", cacheControl);
    ctx.set("ETag", etag);
    ctx.set("X-Content-Type-Options", "nosniff");
    // application/json, not RFC 7517's application/jwk-set+json: it is what the OpenAPI
    // document states for every JSON answer, what the major issuers serve, and what every
    // JOSE client (jose's createRemoteJWKSet included) reads.
    ctx.type = "application/json";
  };

  const spec: RouteSpec<never, never> = publicRoute<never, never>({
    method: "get",
    path: JWKS_PATH,
    operationId: "jwks:get",
    summary: "Public signing keys (JWKS)",
    description:
      "The public keys that verify this server's access tokens, as a JWK Set (RFC 7517): " +
      "a token's `kid` header names its key. Cacheable (`Cache-Control: public, max-age`), " +
      "with an `ETag`; `If-None-Match` answers `304 Not Modified`.",
    tags: ["auth"],
    response: { status: 200, description: "The JWK Set", body: "JsonWebKeySet" },
    components: { JsonWebKeySet: JWK_SET_SCHEMA },
    async handler(ctx) {
      headers(ctx);
      return body;
    },
  });

  // Mounted by hand, not with mountRoutes: the route answers 304 too, and needs no user
  // manager. The spec rides on the middleware, so an OpenAPI registry describes the route.
  const middleware: SpecMiddleware = Object.assign(
    (ctx: Context) => {
      headers(ctx);
      ctx.body = body;
      ctx.status = 200;
      if (matches(ctx.get("If-None-Match"), etag)) ctx.status = 304;
    },
    { [ROUTE_SPEC]: spec },
  );
  const router = new TesseraRouter(options.prefix ? { prefix: options.prefix } : {});
  router.get(JWKS_PATH, middleware);
  return router;
}

/**
 * RFC 9110 §13.1.2: `If-None-Match` is `*` or a list of entity tags, compared weakly. Not
 * Koa's `ctx.fresh` (the `fresh` package), which answers 200 to any request carrying
 * `Cache-Control: no-cache`, and fetch() adds that to every conditional request.
 */
function matches(ifNoneMatch: string, etag: string): boolean {
  if (ifNoneMatch === "") return false;
  if (ifNoneMatch.trim() === "*") return true;
  return ifNoneMatch.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}

/** The JWK Set of `sources`: in order, each `kid` once. */
function jwkSet(sources: readonly JwksSource[]): { keys: JwksKey[] } {
  if (sources.length === 0) {
    throw new ConfigurationError("jwksRouter: give at least one key set");
  }
  const byKid = new Map<string, { jwk: JwksKey; text: string }>();
  for (const [index, source] of sources.entries()) {
    if (typeof source?.publicJwks !== "function") {
      throw new ConfigurationError(`jwksRouter: source ${index} is no key set (no publicJwks())`);
    }
    const { keys } = source.publicJwks();
    if (keys.length === 0) {
      throw new ConfigurationError(
        `jwksRouter: key set ${index} has no public key (HS256 secrets are never published): ` +
          "sign with RS256, ES256 or EdDSA keys to publish them",
      );
    }
    for (const jwk of keys) {
      if (typeof jwk.kid !== "string" || jwk.kid === "") {
        throw new ConfigurationError(`jwksRouter: a key of key set ${index} has no kid`);
      }
      const secret = PRIVATE_MEMBERS.find((member) => Object.hasOwn(jwk, member));
      if (secret !== undefined) {
        throw new ConfigurationError(
          `jwksRouter: key ${jwk.kid} has the private member ${secret}: only public keys are published`,
        );
      }
      const text = JSON.stringify(jwk);
      const seen = byKid.get(jwk.kid);
      if (seen !== undefined && seen.text !== text) {
        throw new ConfigurationError(`jwksRouter: two different keys have the kid ${jwk.kid}`);
      }
      if (seen === undefined) byKid.set(jwk.kid, { jwk: { ...jwk }, text });
    }
  }
  return { keys: [...byKid.values()].map(({ jwk }) => jwk) };
}
