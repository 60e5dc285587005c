// Usage: node --import ./ts-resolve.ts servers/server.ts <variant>
// Loads only the variant's own module, so each process carries only what it benchmarks.
import type Koa from "koa";
import { serve } from "./common.ts";

const variant = process.argv[2];
if (!variant || !/^[a-z0-9-]+$/.test(variant)) {
  console.error("usage: server.ts <variant>");
  process.exit(2);
}
const mod = (await import(`./${variant}.ts`)) as { build(): Promise<Koa> };
serve(await mod.build());
