import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_DATA_DIR, loadConfig } from "./config.js";

describe("loadConfig", () => {
  it("defaults to SQLite in the app's data/ on port 8000, no Redis, mail to the outbox", () => {
    const config = loadConfig({});
    expect(config.port).toBe(8000);
    expect(config.appUrl).toBe("http://localhost:8000");
    expect(config.dataDir).toBe(DEFAULT_DATA_DIR);
    expect(config.database).toEqual({
      kind: "sqlite",
      file: join(DEFAULT_DATA_DIR, "tessera.sqlite"),
    });
    expect(config.redisUrl).toBeUndefined();
    expect(config.mail.outboxDir).toBe(join(DEFAULT_DATA_DIR, "outbox"));
    expect(config.admin).toBeUndefined();
    expect(config.cookieSecure).toBe(false);
  });

  it("takes the database from DATABASE_URL or MONGODB_URL (the path names the database)", () => {
    expect(loadConfig({ DATABASE_URL: "postgres://u:p@db/app" }).database).toEqual({
      kind: "postgresql",
      url: "postgres://u:p@db/app",
    });
    expect(loadConfig({ MONGODB_URL: "mongodb://db:27017/app" }).database).toMatchObject({
      kind: "mongodb",
      dbName: "app",
    });
    expect(loadConfig({ MONGODB_URL: "mongodb://db:27017" }).database).toMatchObject({
      dbName: "tessera",
    });
  });

  it("secures cookies everywhere but on plain-HTTP localhost", () => {
    expect(loadConfig({ APP_URL: "https://app.example.com/" }).cookieSecure).toBe(true);
    expect(loadConfig({ APP_URL: "http://127.0.0.1:8000" }).cookieSecure).toBe(false);
    expect(loadConfig({ APP_URL: "https://app.example.com/" }).appUrl).toBe(
      "https://app.example.com",
    );
  });

  it("refuses mistakes with one clear line", () => {
    const bad = [
      { PORT: "eighty" },
      { APP_URL: "app.example.com" },
      { DATABASE_URL: "mysql://db/app" },
      { DATABASE_URL: "postgres://db/app", MONGODB_URL: "mongodb://db/app" },
      { TESSERA_ADMIN_EMAIL: "admin@example.com" },
    ];
    for (const env of bad) expect(() => loadConfig(env)).toThrow(ConfigError);
  });
});

describe("rate limiting settings", () => {
  it("on by default; RATE_LIMIT=off turns it off; TRUSTED_PROXIES is a comma list", () => {
    expect(loadConfig({}).rateLimit).toBe(true);
    expect(loadConfig({ RATE_LIMIT: "off" }).rateLimit).toBe(false);
    expect(() => loadConfig({ RATE_LIMIT: "maybe" })).toThrow(ConfigError);
    expect(loadConfig({}).trustedProxies).toEqual([]);
    expect(loadConfig({ TRUSTED_PROXIES: "10.0.0.0/8, ::1" }).trustedProxies).toEqual([
      "10.0.0.0/8",
      "::1",
    ]);
  });
});

describe("access-token lifetime", () => {
  it("ACCESS_TOKEN_LIFETIME_SECONDS sets it, 900 by default; anything but 1 to 86400 whole seconds is refused", () => {
    expect(loadConfig({}).accessTokenLifetimeSeconds).toBe(900);
    expect(loadConfig({ ACCESS_TOKEN_LIFETIME_SECONDS: "" }).accessTokenLifetimeSeconds).toBe(900);
    expect(loadConfig({ ACCESS_TOKEN_LIFETIME_SECONDS: "2" }).accessTokenLifetimeSeconds).toBe(2);
    expect(loadConfig({ ACCESS_TOKEN_LIFETIME_SECONDS: "86400" }).accessTokenLifetimeSeconds).toBe(
      86_400,
    );
    for (const bad of ["0", "-5", "1.5", "1e3", " 60", "15m", "86401", "abc"]) {
      expect(() => loadConfig({ ACCESS_TOKEN_LIFETIME_SECONDS: bad }), bad).toThrow(
        /^ACCESS_TOKEN_LIFETIME_SECONDS must be a whole number of seconds from 1 to 86400/,
      );
    }
  });
});

describe("sign-in providers (OAUTH_*)", () => {
  const idp = {
    OAUTH_MY_IDP_ISSUER: "https://login.example.com/realms/app",
    OAUTH_MY_IDP_CLIENT_ID: "app",
    OAUTH_MY_IDP_CLIENT_SECRET: "s3cret",
  };

  it("none by default", () => {
    expect(loadConfig({}).oauth).toEqual([]);
  });

  it("one OIDC provider per ISSUER + CLIENT_ID + CLIENT_SECRET triple, named after <NAME>, sorted", () => {
    const config = loadConfig({
      ...idp,
      OAUTH_GOOGLE_ISSUER: "https://accounts.google.com",
      OAUTH_GOOGLE_CLIENT_ID: "g-id",
      OAUTH_GOOGLE_CLIENT_SECRET: "g-secret",
    });
    expect(config.oauth).toEqual([
      {
        kind: "oidc",
        name: "google",
        label: "Google",
        issuer: "https://accounts.google.com",
        clientId: "g-id",
        clientSecret: "g-secret",
        insecure: false,
      },
      {
        kind: "oidc",
        name: "my-idp",
        label: "My Idp",
        issuer: "https://login.example.com/realms/app",
        clientId: "app",
        clientSecret: "s3cret",
        insecure: false,
      },
    ]);
  });

  it("GitHub by its preset: OAUTH_GITHUB_CLIENT_ID + _CLIENT_SECRET, no issuer (GitHub is not OIDC)", () => {
    expect(
      loadConfig({ OAUTH_GITHUB_CLIENT_ID: "gh", OAUTH_GITHUB_CLIENT_SECRET: "gh-secret" }).oauth,
    ).toEqual([
      {
        kind: "github",
        name: "github",
        label: "GitHub",
        clientId: "gh",
        clientSecret: "gh-secret",
      },
    ]);
    expect(() =>
      loadConfig({
        OAUTH_GITHUB_ISSUER: "https://github.com",
        OAUTH_GITHUB_CLIENT_ID: "gh",
        OAUTH_GITHUB_CLIENT_SECRET: "gh-secret",
      }),
    ).toThrow(/GitHub is not an OpenID Connect provider/);
  });

  it("a missing part is a start-up error naming the variables to set", () => {
    const { OAUTH_MY_IDP_CLIENT_SECRET: _, ...noSecret } = idp;
    expect(() => loadConfig(noSecret)).toThrow(
      new ConfigError(
        "sign-in provider my_idp: set OAUTH_MY_IDP_CLIENT_SECRET too, or unset OAUTH_MY_IDP_*",
      ),
    );
    expect(() => loadConfig({ OAUTH_ACME_CLIENT_ID: "x" })).toThrow(
      /set OAUTH_ACME_ISSUER and OAUTH_ACME_CLIENT_SECRET too/,
    );
    expect(() => loadConfig({ OAUTH_GITHUB_CLIENT_ID: "gh" })).toThrow(
      /set OAUTH_GITHUB_CLIENT_SECRET too/,
    );
    // An empty variable counts as unset.
    expect(() => loadConfig({ ...idp, OAUTH_MY_IDP_CLIENT_ID: "" })).toThrow(
      /set OAUTH_MY_IDP_CLIENT_ID too/,
    );
  });

  it("the issuer must be https, or http on this machine only (ASVS 5.0 12.3.1: the client secret and tokens never travel in clear)", () => {
    const triple = (issuer: string) => ({
      OAUTH_DEV_ISSUER: issuer,
      OAUTH_DEV_CLIENT_ID: "dev",
      OAUTH_DEV_CLIENT_SECRET: "dev-secret",
    });
    expect(loadConfig(triple("http://127.0.0.1:4444")).oauth[0]).toMatchObject({
      issuer: "http://127.0.0.1:4444",
      insecure: true,
    });
    expect(loadConfig(triple("http://localhost:4444/")).oauth[0]).toMatchObject({
      insecure: true,
    });
    for (const bad of ["http://idp.example.com", "ftp://127.0.0.1", "not a url"]) {
      expect(() => loadConfig(triple(bad)), bad).toThrow(ConfigError);
    }
  });

  it("a provider may not take the name of the app's own /auth/{name} routes", () => {
    for (const name of ["COOKIE", "JWT", "REFRESH_COOKIE", "ASSOCIATE"]) {
      expect(() =>
        loadConfig({
          [`OAUTH_${name}_ISSUER`]: "https://idp.example.com",
          [`OAUTH_${name}_CLIENT_ID`]: "x",
          [`OAUTH_${name}_CLIENT_SECRET`]: "y",
        }),
      ).toThrow(/is taken by the app's own/);
    }
  });
});
