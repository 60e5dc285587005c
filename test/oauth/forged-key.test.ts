// An ID token signed by a key the issuer does not publish must be refused by openid-client's
// signature check (through the issuer's JWKS). A private oidc-provider signs with key B but
// its JWKS endpoint publishes key A: everything else (issuer, audience, nonce, expiry) is
// right, so only the signature check can catch it. With the same `kid` in both keys the key
// lookup succeeds and the RSA signature verification itself fails; with another `kid` the
// key selection fails. A control provider that publishes its real key signs in fine.
import { OAuthInvalidResponseError } from "@tessera/oauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  newSigningKey,
  type RunningOidcProvider,
  startOidcProvider,
} from "../harness/oidc-provider.js";
import { flowOf, oidcOf, signIn } from "./support.js";

describe("an ID token signed by another key than the issuer's (ASVS 5.0 6.8.2, 9.1.1)", () => {
  const running: RunningOidcProvider[] = [];
  let published: Awaited<ReturnType<typeof newSigningKey>>;
  let forger: Awaited<ReturnType<typeof newSigningKey>>;

  beforeAll(async () => {
    published = await newSigningKey("key-1");
    forger = await newSigningKey("key-1");
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => p.close()));
  });

  const start = async (options: Parameters<typeof startOidcProvider>[0]) => {
    const p = await startOidcProvider(options);
    running.push(p);
    return p;
  };

  it("control: the provider publishing its real key signs in", async () => {
    const honest = await start({ signingKey: published.priv });
    const flow = flowOf(oidcOf(honest.info));
    const { cookie, query } = await signIn(flow, { login: "alice" });
    expect((await flow.complete({ query, cookie })).profile.accountId).toBe("alice");
  });

  it("refuses a token signed by another key under the published kid: the signature fails", async () => {
    const rogue = await start({
      signingKey: forger.priv,
      publishedJwks: { keys: [published.pub] },
    });
    const flow = flowOf(oidcOf(rogue.info));
    const { cookie, query } = await signIn(flow, { login: "alice" });
    const error = await flow.complete({ query, cookie }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthInvalidResponseError);
    expect((error as Error).message).toMatch(/signature/i);
  });

  it("refuses a token whose kid the issuer does not publish: the key selection fails", async () => {
    const other = await newSigningKey("key-2");
    const rogue = await start({ signingKey: other.priv, publishedJwks: { keys: [published.pub] } });
    const flow = flowOf(oidcOf(rogue.info));
    const { cookie, query } = await signIn(flow, { login: "alice" });
    await expect(flow.complete({ query, cookie })).rejects.toBeInstanceOf(
      OAuthInvalidResponseError,
    );
  });
});
