import { existsSync } from "node:fs";
import module from "node:module";
import { extname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { UserProtocol } from "@tessera/core";
import type { TesseraCliConfig } from "./config.js";
import { CliError, ExitCode } from "./exit-codes.js";

let hooksRegistered = false;

/**
 * Lets a TypeScript config import its app's sources the NodeNext way (`./src/db.js` for
 * `./src/db.ts`), as `tsc` compiles them: a relative `.js` specifier outside `node_modules`
 * whose file does not exist resolves to the `.ts` beside it. Node strips the types.
 */
function registerTsResolution(): void {
  if (hooksRegistered || typeof module.registerHooks !== "function") return;
  hooksRegistered = true;
  module.registerHooks({
    resolve(specifier, context, nextResolve) {
      const parent = context.parentURL;
      if (
        (specifier.startsWith("./") || specifier.startsWith("../")) &&
        specifier.endsWith(".js") &&
        parent?.startsWith("file:") &&
        !parent.includes("/node_modules/")
      ) {
        const js = new URL(specifier, parent);
        const ts = new URL(`${specifier.slice(0, -3)}.ts`, parent);
        if (!existsSync(fileURLToPath(js)) && existsSync(fileURLToPath(ts))) {
          return nextResolve(ts.href, context);
        }
      }
      return nextResolve(specifier, context);
    },
  });
}

/**
 * Imports a `tessera.config.(js|mjs|cjs|ts|mts)` module (relative to `cwd`) and returns its
 * default export (or its `config` export). Throws a usage error ({@link ExitCode.USAGE})
 * for a missing file, a TypeScript file on a Node without type stripping, or a module that
 * exports no `connect` function.
 */
export async function loadConfigModule(
  path: string,
  cwd: string,
): Promise<TesseraCliConfig<UserProtocol<unknown>, unknown>> {
  const file = resolve(cwd, path);
  if (!existsSync(file)) throw new CliError(ExitCode.USAGE, `--config: ${file} does not exist`);
  const ext = extname(file);
  if (ext === ".ts" || ext === ".mts" || ext === ".cts") {
    if (!process.features.typescript) {
      throw new CliError(
        ExitCode.USAGE,
        `--config ${path}: this Node (${process.version}) does not run TypeScript; use Node 22.18+ or 23.6+, NODE_OPTIONS=--experimental-strip-types, or a .js/.mjs config`,
      );
    }
    registerTsResolution();
  }
  let loaded: { default?: unknown; config?: unknown };
  try {
    loaded = (await import(pathToFileURL(file).href)) as typeof loaded;
  } catch (error) {
    throw new CliError(
      ExitCode.USAGE,
      `--config ${path}: cannot load it (${(error as Error).message ?? String(error)})`,
      { cause: error },
    );
  }
  let config = loaded.default ?? loaded.config;
  // A CommonJS module's exports object, or `export default { default: … }` by a transpiler.
  if (config && typeof config === "object" && !("connect" in config) && "default" in config) {
    config = (config as { default: unknown }).default;
  }
  if (!config || typeof (config as { connect?: unknown }).connect !== "function") {
    throw new CliError(
      ExitCode.USAGE,
      `--config ${path}: its default export must be defineConfig({ connect })`,
    );
  }
  return config as TesseraCliConfig<UserProtocol<unknown>, unknown>;
}
