import { TesseraRouter } from "../route/router.js";
import type { OpenAPIOptions } from "./document.js";
import {
  assetReader,
  docsPage,
  initializerScript,
  SWAGGER_UI_ASSETS,
  swaggerUiDirectory,
} from "./swagger-ui.js";
import type { OpenAPIDocument } from "./types.js";

/** Options of `tessera.docsRouter()`; the `OpenAPIOptions` go to the served document. */
export interface DocsRouterOptions extends OpenAPIOptions {
  /** Path prefix of the document and the page, e.g. `"/api"`. @default "" */
  prefix?: string;
  /** Where the OpenAPI document is served, below `prefix`. @default "/openapi.json" */
  openapiPath?: string;
  /** Where the interactive page is served, below `prefix`; its assets live below it. @default "/docs" */
  docsPath?: string;
}

/**
 * A router serving the OpenAPI document as JSON and a Swagger UI page whose every asset
 * is served by the router itself from swagger-ui-dist: no CDN, so it works offline and on
 * networks that block one. Throws a `ConfigurationError` when swagger-ui-dist is missing.
 */
export function createDocsRouter(
  document: (options: OpenAPIOptions) => OpenAPIDocument,
  options: DocsRouterOptions = {},
): TesseraRouter {
  const { prefix = "", openapiPath = "/openapi.json", docsPath = "/docs", ...info } = options;
  const read = assetReader(swaggerUiDirectory());
  const router = new TesseraRouter(prefix ? { prefix } : {});
  const assetsUrl = `${prefix}${docsPath}`;
  const page = docsPage(info.title ?? "Tessera", assetsUrl);
  const initializer = initializerScript(`${prefix}${openapiPath}`);

  router.get(openapiPath, (ctx) => {
    // Built per request: cheap, and always what is mounted now.
    ctx.body = document(info);
  });
  router.get(docsPath, (ctx) => {
    ctx.type = "text/html; charset=utf-8";
    ctx.body = page;
  });
  router.get(`${docsPath}/swagger-initializer.js`, (ctx) => {
    ctx.type = "text/javascript; charset=utf-8";
    ctx.set("X-Content-Type-Options", "nosniff");
    ctx.body = initializer;
  });
  // One route per file: nothing else of the package's directory is reachable.
  for (const [name, type] of Object.entries(SWAGGER_UI_ASSETS)) {
    router.get(`${docsPath}/${name}`, async (ctx) => {
      const body = await read(name);
      ctx.type = type;
      ctx.set("X-Content-Type-Options", "nosniff");
      ctx.set("Cache-Control", "public, max-age=86400");
      ctx.body = body;
    });
  }
  return router;
}
