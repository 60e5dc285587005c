import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { commonPasswords } from "./common-passwords.js";

const root = new URL("../../", import.meta.url);

describe("commonPasswords", () => {
  it("parses the data file once, without its header line", async () => {
    const list = await commonPasswords();
    expect(await commonPasswords()).toBe(list);
    expect(list.has("password")).toBe(true);
    expect([...list].some((p) => p.startsWith("#"))).toBe(false);
  });

  it("names the pinned zxcvbn-ts release in the header, and the package ships the file", () => {
    const text = readFileSync(new URL("data/common-passwords.txt", root), "utf8");
    expect(text.slice(0, text.indexOf("\n"))).toMatch(
      /^# @zxcvbn-ts\/language-common@\d+\.\d+\.\d+ passwords/,
    );
    const { files } = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));
    expect(files).toContain("data");
  });
});
