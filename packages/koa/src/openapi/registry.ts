import type { Router } from "@koa/router";
import type {
  JsonSchema,
  OpenAPIMethod,
  OpenAPIOperation,
  OpenAPIParameter,
  OpenAPIPathItem,
  OpenAPISecurityRequirement,
} from "./types.js";

/** What a router factory says about one of its routes. */
export interface RouteDoc {
  method: OpenAPIMethod;
  /** The path as the factory registers it, before the router's prefix (`"/me/sessions/:sessionId"`). */
  path: string;
  operation: OpenAPIOperation;
}

/** What a router factory says about its routes, with the component schemas they refer to. */
export interface RouterDoc {
  routes: readonly RouteDoc[];
  /** Component schemas by name, merged into `components.schemas`. */
  schemas?: Record<string, JsonSchema>;
}

/** What describing a router needs when the document is built. */
export interface DescribeContext {
  /** The named backends' schemes as alternatives; every backend's when `backends` is omitted. */
  security(backends?: readonly string[]): OpenAPISecurityRequirement[];
}

/**
 * Describes a router when the document is built (not when the router is made, so an app
 * that never asks for OpenAPI never pays for the zod -> JSON Schema conversion).
 */
export type RouterDescriber = (context: DescribeContext) => RouterDoc;

/** Paths and component schemas of every recorded router. */
export interface CollectedPaths {
  paths: Record<string, OpenAPIPathItem>;
  schemas: Record<string, JsonSchema>;
}

const UNDESCRIBED = "Not described by Tessera";

/** `/users/:id` -> `/users/{id}`: Koa's named parameters as OpenAPI path templates. */
export function toOpenAPIPath(path: string): string {
  return path.replace(/:([A-Za-z_$][\w$]*)/g, "{$1}");
}

function byStatus(responses: OpenAPIOperation["responses"]): OpenAPIOperation["responses"] {
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * The routes the router factories of one `Tessera` made, each with its description.
 * The document is read from the routers' own route tables (`router.stack`), so it shows
 * what is mounted, with the prefix each router has now, and a route without a
 * description still appears.
 */
export class OpenAPIRegistry {
  private readonly entries: { router: Router; describe: RouterDescriber }[] = [];

  /** Records `router` with what describes its routes; returns `router`. */
  record(router: Router, describe: RouterDescriber): Router {
    this.entries.push({ router, describe });
    return router;
  }

  /** The routers recorded so far, in order. */
  get routers(): readonly Router[] {
    return this.entries.map((entry) => entry.router);
  }

  /** Every recorded route as an OpenAPI path item, and the schemas the descriptions use. */
  collect(context: DescribeContext): CollectedPaths {
    const paths: Record<string, OpenAPIPathItem> = {};
    const schemas: Record<string, JsonSchema> = {};
    const operationIds = new Set<string>();
    for (const { router, describe } of this.entries) {
      const doc = describe(context);
      Object.assign(schemas, doc.schemas);
      const prefix = router.opts.prefix ?? "";
      for (const layer of router.stack) {
        if (typeof layer.path !== "string") continue;
        // HEAD comes with every GET; document it only when it is all a route answers.
        const methods = layer.methods.filter((m) => m !== "HEAD" || layer.methods.length === 1);
        if (methods.length === 0) continue; // middleware (`router.use`), not a route
        const relative = layer.path.startsWith(prefix)
          ? layer.path.slice(prefix.length) || "/"
          : layer.path;
        const path = toOpenAPIPath(layer.path);
        const item: OpenAPIPathItem = paths[path] ?? {};
        paths[path] = item;
        for (const method of methods.map((m) => m.toLowerCase() as OpenAPIMethod)) {
          // As Koa dispatches: the first route registered for a method and path wins.
          if (item[method]) continue;
          const route = doc.routes.find((r) => r.method === method && r.path === relative);
          const operation = route ? { ...route.operation } : undescribed(method, path);
          operation.responses = byStatus(operation.responses);
          operation.operationId = unique(
            operationIds,
            operation.operationId ?? `${method}${path.replace(/\W+/g, "_")}`,
          );
          const parameters = withPathParameters(operation.parameters ?? [], layer.paramNames);
          if (parameters.length > 0) operation.parameters = parameters;
          item[method] = operation;
        }
      }
    }
    return { paths, schemas };
  }
}

/** A route of a recorded router that its factory did not describe (one an app added). */
function undescribed(method: OpenAPIMethod, path: string): OpenAPIOperation {
  return {
    summary: `${method.toUpperCase()} ${path}`,
    responses: { default: { description: UNDESCRIBED } },
  };
}

/** `declared`, plus a string parameter for each path parameter it does not describe. */
function withPathParameters(
  declared: OpenAPIParameter[],
  keys: readonly { name: string }[],
): OpenAPIParameter[] {
  const names = new Set(declared.map((p) => p.name));
  const missing = keys.filter((key) => !names.has(key.name));
  return [
    ...declared,
    ...missing.map((key) => ({
      name: key.name,
      in: "path" as const,
      required: true,
      schema: { type: "string" },
    })),
  ];
}

/** `id`, or `id_2`, `id_3`…: operation ids must be unique in a document (a router mounted twice). */
function unique(taken: Set<string>, id: string): string {
  let candidate = id;
  for (let n = 2; taken.has(candidate); n++) candidate = `${id}_${n}`;
  taken.add(candidate);
  return candidate;
}
