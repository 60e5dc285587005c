import { describe, expect, it } from "vitest";
import { describeTarget, parseDatabaseTarget, redactUrl } from "./database-url.js";
import { CliError, ExitCode } from "./exit-codes.js";

const parse = (env: { DATABASE_URL?: string; MONGODB_URL?: string }) =>
  parseDatabaseTarget(env, "/srv/app");

const usageError = (env: { DATABASE_URL?: string; MONGODB_URL?: string }) => {
  try {
    parse(env);
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).code).toBe(ExitCode.USAGE);
    return (error as CliError).message;
  }
  throw new Error("expected a usage error");
};

describe("parseDatabaseTarget", () => {
  it("reads PostgreSQL URLs in both spellings", () => {
    expect(parse({ DATABASE_URL: "postgres://u:p@db:5432/app" })).toEqual({
      kind: "postgresql",
      url: "postgres://u:p@db:5432/app",
    });
    expect(parse({ DATABASE_URL: "postgresql://db/app" }).kind).toBe("postgresql");
  });

  it.each([
    ["sqlite:data/app.sqlite", "/srv/app/data/app.sqlite"],
    ["sqlite:./data/app.sqlite", "/srv/app/data/app.sqlite"],
    ["sqlite://data/app.sqlite", "/srv/app/data/app.sqlite"],
    ["sqlite:///var/lib/app.sqlite", "/var/lib/app.sqlite"],
    ["sqlite:/var/lib/app.sqlite", "/var/lib/app.sqlite"],
    ["sqlite:///var/lib/my%20app.sqlite", "/var/lib/my app.sqlite"],
    ["./data/app.sqlite", "/srv/app/data/app.sqlite"],
    ["/var/lib/app.db", "/var/lib/app.db"],
  ])("reads %s as the SQLite file %s", (url, file) => {
    expect(parse({ DATABASE_URL: url })).toEqual({ kind: "sqlite", file });
  });

  it("reads MongoDB URLs from MONGODB_URL or DATABASE_URL, the path naming the database", () => {
    expect(parse({ MONGODB_URL: "mongodb://h:27017/app" })).toEqual({
      kind: "mongodb",
      url: "mongodb://h:27017/app",
      dbName: "app",
    });
    expect(parse({ DATABASE_URL: "mongodb://h:27017/" })).toMatchObject({ dbName: "tessera" });
    expect(parse({ MONGODB_URL: "mongodb://a:1,b:2/rs?replicaSet=x" })).toMatchObject({
      dbName: "rs",
    });
    expect(parse({ MONGODB_URL: "mongodb+srv://cluster.example.com/prod" })).toMatchObject({
      dbName: "prod",
    });
  });

  it("refuses what names no database, or two, as usage errors", () => {
    expect(usageError({})).toMatch(/no database/);
    expect(usageError({ DATABASE_URL: "", MONGODB_URL: "" })).toMatch(/no database/);
    expect(usageError({ DATABASE_URL: "postgres://a/b", MONGODB_URL: "mongodb://c/d" })).toMatch(
      /not both/,
    );
    expect(usageError({ DATABASE_URL: "mysql://db/app" })).toMatch(/unsupported scheme "mysql:"/);
    expect(usageError({ DATABASE_URL: "sqlite::memory:" })).toMatch(/needs a file/);
    expect(usageError({ DATABASE_URL: "sqlite:" })).toMatch(/needs a file/);
    expect(usageError({ MONGODB_URL: "postgres://db/app" })).toMatch(/mongodb:\/\//);
  });
});

describe("describeTarget / redactUrl", () => {
  it("never shows a password", () => {
    expect(redactUrl("postgres://u:secret@db/app")).toBe("postgres://u:***@db/app");
    expect(describeTarget(parse({ DATABASE_URL: "postgres://u:secret@db/app" }))).toBe(
      "PostgreSQL postgres://u:***@db/app",
    );
    expect(describeTarget(parse({ MONGODB_URL: "mongodb://u:secret@h/app" }))).not.toContain(
      "secret",
    );
    expect(describeTarget(parse({ DATABASE_URL: "sqlite:x.sqlite" }))).toBe(
      "SQLite /srv/app/x.sqlite",
    );
  });
});
