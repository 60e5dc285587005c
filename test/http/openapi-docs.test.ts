import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app.js";
import { request } from "../support/client.js";

// The interactive docs page must work offline: every asset from this server, none from a CDN.
let plain: TestApp;
let prefixed: TestApp;

beforeAll(async () => {
  plain = await startApp({ docs: true });
  prefixed = await startApp({
    docs: { prefix: "/api", docsPath: "/reference", title: "Custom <API>", version: "2.0.0" },
  });
});
afterAll(async () => {
  await plain.close();
  await prefixed.close();
});

describe("GET /docs", () => {
  async function assets(base: string, page: string) {
    const res = await request(`${base}${page}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const urls = [...res.text.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1] ?? "");
    expect(urls.length).toBeGreaterThanOrEqual(4);
    for (const url of urls) expect(url, "no CDN: only this server's own paths").toMatch(/^\/\w/);
    const types: string[] = [];
    for (const url of urls) {
      const asset = await request(`${base}${url}`);
      expect(asset.status, url).toBe(200);
      types.push(asset.headers.get("content-type") ?? "");
    }
    return { html: res.text, urls, types };
  }

  it("serves Swagger UI with every asset from this server", async () => {
    const { urls, types } = await assets(plain.url, "/docs");
    expect(urls).toContain("/docs/swagger-ui-bundle.js");
    expect(types).toEqual(
      expect.arrayContaining([
        "text/css; charset=utf-8",
        "text/javascript; charset=utf-8",
        "image/png",
      ]),
    );
    const init = await request(`${plain.url}/docs/swagger-initializer.js`);
    expect(init.text).toContain('url: "/openapi.json"');
    expect((await request(`${plain.url}/docs/package.json`)).status).toBe(404);
  });

  it("serves everything below its prefix and paths, and escapes the title", async () => {
    const { html, urls } = await assets(prefixed.url, "/api/reference");
    expect(urls.every((url) => url.startsWith("/api/reference/"))).toBe(true);
    expect(html).toContain("<title>Custom &#60;API&#62;</title>");
    const init = await request(`${prefixed.url}/api/reference/swagger-initializer.js`);
    expect(init.text).toContain('url: "/api/openapi.json"');
    const doc = (await request(`${prefixed.url}/api/openapi.json`)).body;
    expect(doc).toMatchObject({ info: { title: "Custom <API>", version: "2.0.0" } });
  });
});
