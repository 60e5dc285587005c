import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// Exporting a name is a decision: one that appears or disappears without being listed
// here fails, so a helper cannot become public API (or stop being it) unnoticed.
const source = (file: string) => readFileSync(new URL(file, import.meta.url), "utf8");

describe.each([
  {
    entry: "@tessera/cli",
    file: "./index.ts",
    load: () => import("./index.js"),
    names: [
      "CliError",
      "ExitCode",
      "defineConfig",
      "generateJwk",
      "mikroOrmSchema",
      "parseDatabaseTarget",
      "promoteJwks",
      "rotateJwks",
      "runCli",
      "stageJwks",
      "strategySessions",
    ],
  },
])("$entry", ({ file, load, names }) => {
  it("exports exactly the listed values", async () => {
    expect(Object.keys(await load()).sort()).toEqual([...names].sort());
  });

  it("names each export: no `export *`", () => {
    expect(source(file)).not.toMatch(/export\s+(type\s+)?\*/);
  });
});
