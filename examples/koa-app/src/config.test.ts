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
