import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { deriveSecrets, loadSecrets, SECRET_FILE } from "./secrets.js";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("secrets", () => {
  it("derives one distinct secret per purpose from the master secret", () => {
    const secrets = Object.values(deriveSecrets("a master secret of at least 32 bytes!!"));
    expect(new Set(secrets).size).toBe(9);
    for (const s of secrets) expect(s.length).toBeGreaterThanOrEqual(32);
  });

  it("generates the master secret once, mode 0600, and reuses it", () => {
    dir = join(mkdtempSync(join(tmpdir(), "koa-app-")), "data");
    const first = loadSecrets(undefined, dir);
    expect(first.source).toBe("generated");
    const file = join(dir, SECRET_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = loadSecrets(undefined, dir);
    expect(second.source).toBe("file");
    expect(second.secrets).toEqual(first.secrets);
    expect(readFileSync(file, "utf8").trim()).toHaveLength(43);
  });

  it("prefers TESSERA_SECRET and refuses a short one", () => {
    expect(loadSecrets("x".repeat(32), "/nonexistent").source).toBe("env");
    expect(() => loadSecrets("short", "/nonexistent")).toThrow(/32 bytes/);
  });
});
