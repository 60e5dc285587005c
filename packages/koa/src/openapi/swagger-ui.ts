import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { ConfigurationError } from "@tessera/core";

/** The files of swagger-ui-dist the docs page loads, with the content type of each. */
export const SWAGGER_UI_ASSETS: Readonly<Record<string, string>> = Object.freeze({
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
});

/**
 * The directory of the installed `swagger-ui-dist`, resolved from @tessera/koa as an
 * optional peer dependency: only apps that serve `/docs` install its 12 MB, and nothing
 * of it is loaded until an asset is asked for.
 */
export function swaggerUiDirectory(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  } catch (cause) {
    throw new ConfigurationError(
      "docsRouter() serves Swagger UI from the swagger-ui-dist package; install it " +
        "beside @tessera/koa (pnpm add swagger-ui-dist)",
      { cause },
    );
  }
}

/** Reads each asset once, on first use. */
export function assetReader(directory: string): (name: string) => Promise<Buffer> {
  const cache = new Map<string, Promise<Buffer>>();
  return (name) => {
    let file = cache.get(name);
    if (!file) {
      file = readFile(join(directory, name));
      // A failed read (files removed under a running app) is retried next time.
      file.catch(() => cache.delete(name));
      cache.set(name, file);
    }
    return file;
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The docs page: Swagger UI from `assetsUrl`, started by a script file rather than an
 * inline one, so the page works under a `script-src 'self'` Content-Security-Policy.
 */
export function docsPage(title: string, assetsUrl: string): string {
  const base = escapeHtml(assetsUrl);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${base}/swagger-ui.css">
<link rel="icon" type="image/png" href="${base}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${base}/swagger-ui-bundle.js"></script>
<script src="${base}/swagger-initializer.js"></script>
</body>
</html>
`;
}

/** The script that starts Swagger UI on the document at `openapiUrl`. */
export function initializerScript(openapiUrl: string): string {
  return `window.ui = SwaggerUIBundle({
  url: ${JSON.stringify(openapiUrl)},
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
`;
}
