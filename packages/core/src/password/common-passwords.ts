import { readFile } from "node:fs/promises";

// A data file, not a module: 10,000 lines of TypeScript cost every build and type-check, and
// only apps that turn the check on need them. scripts/common-passwords.mjs regenerates it.
// Two levels up from src/password/ and from dist/password/ alike: the package root.
const FILE = new URL("../../data/common-passwords.txt", import.meta.url);

let common: Promise<ReadonlySet<string>> | undefined;

/**
 * The bundled common-password list (the 10,000 most common of 8+ characters, from
 * zxcvbn-ts, lower-case), read and parsed once, on first use.
 */
export function commonPasswords(): Promise<ReadonlySet<string>> {
  // The first line is the header naming the release the list was taken from.
  common ??= readFile(FILE, "utf8").then(
    (text) => new Set(text.split("\n").slice(1).filter(Boolean)),
  );
  return common;
}
