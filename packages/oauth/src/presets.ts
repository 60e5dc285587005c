import { OAuthInvalidResponseError } from "./errors.js";
import { oauth2Provider } from "./oauth2.js";
import { oidcProvider } from "./oidc.js";
import type { OAuthProfile, OAuthProvider, OAuthProviderBaseOptions } from "./provider.js";

/** Options of the ready-made providers: the name defaults to the provider's. */
export type PresetOptions = Omit<OAuthProviderBaseOptions, "name"> & { name?: string };

/** Options of {@link github}. */
export interface GitHubOptions extends PresetOptions {
  /** @default ["read:user", "user:email"] */
  scopes?: readonly string[];
  /**
   * Other endpoints (GitHub Enterprise Server, or a test double of GitHub's API): the
   * defaults are github.com's.
   */
  endpoints?: {
    authorization?: string;
    token?: string;
    /** The REST API's base URL, without a trailing slash. @default "https://api.github.com" */
    api?: string;
    /** The issuer to expect in the callback's `iss` (RFC 9207), for servers that send one. */
    issuer?: string;
  };
}

interface GitHubUser {
  id?: unknown;
  email?: unknown;
}
interface GitHubEmail {
  email?: unknown;
  primary?: unknown;
  verified?: unknown;
}

/**
 * GitHub (plain OAuth2, not OpenID Connect): the account id is `/user`'s numeric `id`; the
 * email is the primary address of `/user/emails` and is verified only when GitHub says so
 * (the public `/user` email is never trusted as verified). PKCE S256 is sent (GitHub
 * supports it).
 */
export function github(options: GitHubOptions): OAuthProvider {
  const api = options.endpoints?.api ?? "https://api.github.com";
  const headers = { accept: "application/vnd.github+json", "x-github-api-version": "2022-11-28" };
  const { endpoints: _endpoints, ...base } = options;
  return oauth2Provider({
    ...base,
    name: options.name ?? "github",
    scopes: options.scopes ?? ["read:user", "user:email"],
    authorizationEndpoint:
      options.endpoints?.authorization ?? "https://github.com/login/oauth/authorize",
    tokenEndpoint: options.endpoints?.token ?? "https://github.com/login/oauth/access_token",
    ...(options.endpoints?.issuer ? { issuer: options.endpoints.issuer } : {}),
    async profile({ getJson }): Promise<OAuthProfile> {
      const user = (await getJson(`${api}/user`, headers)) as GitHubUser;
      if (typeof user?.id !== "number" && typeof user?.id !== "string") {
        throw new OAuthInvalidResponseError("GitHub's /user has no id");
      }
      const emails = await getJson(`${api}/user/emails`, headers);
      const list = Array.isArray(emails) ? (emails as GitHubEmail[]) : [];
      const primary = list.find((e) => e?.primary === true && typeof e.email === "string");
      return {
        accountId: String(user.id),
        email: primary ? (primary.email as string) : null,
        emailVerified: primary?.verified === true,
      };
    },
  });
}

/** Options of {@link google}. */
export interface GoogleOptions extends PresetOptions {
  /** @default ["openid", "email", "profile"] */
  scopes?: readonly string[];
}

/** Google (OpenID Connect, issuer `https://accounts.google.com`, `email_verified` in the ID token). */
export function google(options: GoogleOptions): OAuthProvider {
  return oidcProvider({
    ...options,
    name: options.name ?? "google",
    issuer: "https://accounts.google.com",
  });
}

/** The tenant of personal Microsoft accounts (what `consumers` stands for). */
const MICROSOFT_CONSUMERS_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad";

/** Options of {@link microsoft}. */
export interface MicrosoftOptions extends PresetOptions {
  /**
   * The Entra ID tenant's id (a GUID), or `consumers` for personal Microsoft accounts. A
   * domain name and the multi-tenant aliases `common` / `organizations` are refused: their
   * discovery document names another issuer than the URL it was read from (the tenant's
   * GUID, or the template `…/{tenantid}/v2.0`), so openid-client's issuer check cannot pass.
   */
  tenant: string;
  /** @default ["openid", "email", "profile"] */
  scopes?: readonly string[];
}

/**
 * Microsoft Entra ID (OpenID Connect, v2.0 endpoints of one tenant). Entra ID sends no
 * `email_verified`: its emails are reported unverified, so they never associate with an
 * existing user by email.
 */
export function microsoft(options: MicrosoftOptions): OAuthProvider {
  const { tenant, ...rest } = options;
  const id = tenant === "consumers" ? MICROSOFT_CONSUMERS_TENANT : tenant.toLowerCase();
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
    throw new TypeError(
      `microsoft(): tenant must be a tenant id (GUID) or "consumers": ${JSON.stringify(tenant)}`,
    );
  }
  return oidcProvider({
    ...rest,
    name: options.name ?? "microsoft",
    issuer: `https://login.microsoftonline.com/${id}/v2.0`,
  });
}
