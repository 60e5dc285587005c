import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// Exporting a name is a decision: one that appears or disappears without being listed
// here fails, so a helper cannot become public API (or stop being it) unnoticed.
const source = (file: string) => readFileSync(new URL(file, import.meta.url), "utf8");

describe.each([
  {
    entry: "@tessera/db-mikroorm",
    file: "./index.ts",
    load: () => import("./index.js"),
    names: [
      "AccessToken",
      "AccessTokenBase",
      "MikroOrmAccessTokenDatabase",
      "MfaRecoveryCode",
      "MfaRecoveryCodeBase",
      "MfaTotp",
      "MfaTotpBase",
      "MikroOrmUserDatabase",
      "MongoAccessToken",
      "MongoMfaRecoveryCode",
      "MongoMfaTotp",
      "MongoPasskey",
      "MongoOAuthAccount",
      "MongoUser",
      "OAuthAccount",
      "OAuthAccountBase",
      "Passkey",
      "PasskeyBase",
      "User",
      "UserBase",
      "accessTokenRefreshColumnsSql",
      "accessTokenSessionColumnsSql",
      "accessTokenUser",
      "mfaTablesSql",
      "mfaUser",
      "oauthAccountUser",
      "oauthAccountsTableSql",
      "withRequestEntityManager",
    ],
  },
  {
    entry: "@tessera/db-mikroorm/sqlite",
    file: "./sqlite.ts",
    load: () => import("./sqlite.js"),
    names: ["TesseraSqliteDialect"],
  },
])("$entry", ({ file, load, names }) => {
  it("exports exactly the listed values", async () => {
    expect(Object.keys(await load()).sort()).toEqual([...names].sort());
  });

  it("names each export: no `export *`", () => {
    expect(source(file)).not.toMatch(/export\s+(type\s+)?\*/);
  });
});
