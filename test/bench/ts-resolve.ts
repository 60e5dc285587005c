// Lets plain `node` (type stripping, no bundler) run the benchmark and the harness modules
// it reuses: they import siblings as `./x.js`, the NodeNext convention, while the files on
// disk are `./x.ts`. Loaded with `node --import ./ts-resolve.ts`.
import { existsSync } from "node:fs";
import { registerHooks } from "node:module";
import { fileURLToPath } from "node:url";

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (
      (specifier.startsWith("./") || specifier.startsWith("../")) &&
      specifier.endsWith(".js") &&
      context.parentURL?.startsWith("file:") &&
      !context.parentURL.includes("/node_modules/")
    ) {
      const ts = new URL(`${specifier.slice(0, -3)}.ts`, context.parentURL);
      if (
        existsSync(fileURLToPath(ts)) &&
        !existsSync(fileURLToPath(new URL(specifier, context.parentURL)))
      ) {
        return nextResolve(ts.href, context);
      }
    }
    return nextResolve(specifier, context);
  },
});
