// The real OpenID Connect provider of the suite: panva's oidc-provider on a loopback port,
// with a confidential test client, PKCE required, its own login and consent pages
// (devInteractions), three accounts, and a GitHub-style user API (`/github/user`,
// `/github/user/emails`) answering for the access tokens it issues. The global setup starts
// one (inject("oidc")); a test may start private ones (`startOidcProvider`), e.g. to stop one
// or to make one that signs with a key it does not publish.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import type { OidcProviderInfo, OidcTestAccount } from "./types.js";

/**
 * The suite's accounts: log in with the username (any password), which is also the `sub`
 * (devInteractions makes the typed login the account id).
 */
export const OIDC_ACCOUNTS: Record<string, OidcTestAccount> = {
  alice: { sub: "alice", githubId: 1001, email: "alice@example.com", emailVerified: true },
  bob: { sub: "bob", githubId: 1002, email: "bob@example.com", emailVerified: false },
  carol: { sub: "carol", githubId: 1003, email: null, emailVerified: false },
};

/** The confidential test client (client_secret_basic). */
export const OIDC_CLIENT = {
  clientId: "tessera-test",
  clientSecret: "tessera-test-client-secret-0123456789",
} as const;

export interface OidcProviderOptions {
  /** The port to listen on (127.0.0.1). @default a free one */
  port?: number;
  /** The private JWK it signs ID tokens with (alg RS256, with a kid). @default a new one */
  signingKey?: JWK;
  /**
   * What its JWKS endpoint publishes instead of its signing key's public part: a provider
   * whose ID tokens are signed by a key it does not publish (a forged-token test).
   */
  publishedJwks?: { keys: JWK[] };
}

export interface RunningOidcProvider {
  info: OidcProviderInfo;
  /** Stops listening; resolves once the port refuses connections. */
  close(): Promise<void>;
}

/** A new RS256 key pair as private and public JWKs, both with `kid`. */
export async function newSigningKey(kid = "tessera-test-key"): Promise<{ priv: JWK; pub: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const priv = { ...(await exportJWK(privateKey)), kid, alg: "RS256", use: "sig" };
  const pub = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  return { priv, pub };
}

const isLoopbackCallback = (value: string) => {
  try {
    const url = new URL(value);
    return url.protocol === "http:" && url.hostname === "127.0.0.1" && !url.hash;
  } catch {
    return false;
  }
};

function bearerOf(header: string | undefined): string | undefined {
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header ?? "");
  return match?.[1];
}

/** Starts an oidc-provider on 127.0.0.1; resolves once it serves its discovery document. */
export async function startOidcProvider(
  options: OidcProviderOptions = {},
): Promise<RunningOidcProvider> {
  let Provider: typeof import("oidc-provider").default;
  try {
    Provider = (await import("oidc-provider")).default;
  } catch (cause) {
    throw new Error(
      "tessera harness: the OIDC provider cannot start: the oidc-provider package is missing " +
        "(run `pnpm install` at the repository root)",
      { cause },
    );
  }
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: options.port ?? 0, host: "127.0.0.1" }, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;
  const signingKey = options.signingKey ?? (await newSigningKey()).priv;
  const bySub = new Map(Object.values(OIDC_ACCOUNTS).map((a) => [a.sub, a]));

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: OIDC_CLIENT.clientId,
        client_secret: OIDC_CLIENT.clientSecret,
        // Any http://127.0.0.1:<port>/<path> callback is allowed (redirectUriAllowed below):
        // the test apps listen on random ports. This one only registers the client.
        redirect_uris: ["http://127.0.0.1/callback"],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    pkce: { required: () => true },
    jwks: { keys: [signingKey] },
    cookies: { keys: ["tessera-test-cookie-key-0123456789abcdef"] },
    features: { devInteractions: { enabled: true } },
    scopes: ["openid", "offline_access", "email", "profile", "read:user", "user:email"],
    claims: { openid: ["sub"], email: ["email", "email_verified"] },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 86_400,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    // Errors as text: a test that trips one shows the provider's reason in its failure.
    async renderError(ctx, out) {
      ctx.type = "text/plain";
      ctx.body = JSON.stringify(out);
    },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    async findAccount(_ctx, id) {
      const account = Object.entries(OIDC_ACCOUNTS).find(
        ([login, a]) => login === id || a.sub === id,
      )?.[1];
      if (!account) return undefined;
      return {
        accountId: account.sub,
        async claims() {
          return account.email === null
            ? { sub: account.sub }
            : { sub: account.sub, email: account.email, email_verified: account.emailVerified };
        },
      };
    },
  });
  provider.Client.prototype.redirectUriAllowed = isLoopbackCallback;
  // A 500 at the provider is a bug of this harness: say so in the test log.
  provider.on("server_error", (_ctx, error) => {
    console.error(`tessera harness: OIDC provider ${issuer}: server error`, error);
  });

  // Before the provider's routes: the published JWKS override, and the GitHub-style API.
  provider.use(async (ctx, next) => {
    if (ctx.method === "GET" && ctx.path === "/jwks" && options.publishedJwks) {
      ctx.type = "application/jwk-set+json";
      ctx.body = options.publishedJwks;
      return;
    }
    if (
      ctx.method === "GET" &&
      (ctx.path === "/github/user" || ctx.path === "/github/user/emails")
    ) {
      const value = bearerOf(ctx.get("authorization"));
      const token = value ? await provider.AccessToken.find(value) : undefined;
      const account = token && !token.isExpired ? bySub.get(String(token.accountId)) : undefined;
      if (!account) {
        ctx.status = 401;
        ctx.body = { message: "Bad credentials" };
        return;
      }
      const login = Object.keys(OIDC_ACCOUNTS).find((k) => OIDC_ACCOUNTS[k] === account);
      ctx.body =
        ctx.path === "/github/user"
          ? { id: account.githubId, login, email: account.emailVerified ? account.email : null }
          : account.email === null
            ? []
            : [
                { email: `${login}@users.noreply.example`, primary: false, verified: true },
                {
                  email: account.email,
                  primary: true,
                  verified: account.emailVerified,
                  visibility: "private",
                },
              ];
      return;
    }
    await next();
  });
  server.on("request", provider.callback());

  const info: OidcProviderInfo = {
    issuer,
    port,
    clientId: OIDC_CLIENT.clientId,
    clientSecret: OIDC_CLIENT.clientSecret,
    github: {
      authorization: `${issuer}/auth`,
      token: `${issuer}/token`,
      api: `${issuer}/github`,
    },
    accounts: OIDC_ACCOUNTS,
  };
  const answer = await fetch(`${issuer}/.well-known/openid-configuration`);
  if (!answer.ok) throw new Error(`tessera harness: the OIDC provider answered ${answer.status}`);
  return {
    info,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
