// The suite's OIDC provider as a test sees it (started by the global setup).
import { inject } from "vitest";
import type { OidcProviderInfo } from "./types.js";

/** Issuer, test client, GitHub-style endpoints and accounts of the suite's OIDC provider. */
export function oidcInfo(): OidcProviderInfo {
  return inject("oidc");
}
