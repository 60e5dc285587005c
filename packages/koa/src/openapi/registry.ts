import type { Router } from "@koa/router";
import { specOf } from "../route/mount.js";
import { type DescribeContext, describeRoute } from "./operation.js";
import type {
  JsonSchema,
  OpenAPIMethod,
  OpenAPIOperation,
  OpenAPIParameter,
  OpenAPIPathItem,
} from "./types.js";

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
 * The routers one `Tessera` made. The document is read from their route tables
 * (`router.stack`), each layer described by the spec its middleware was mounted from, so
 * it shows what is mounted, with the prefix each router has now; a route an app added to a
 * Tessera router still appears, marked undescribed.
 */
export class OpenAPIRegistry {
  private readonly routers: Router[] = [];

  /** Records `router`; returns it. */
  record<R extends Router>(router: R): R {
    this.routers.push(router);
    return router;
  }

  /** Every recorded route as an OpenAPI path item, and the schemas the descriptions use. */
  collect(context: DescribeContext): CollectedPaths {
    const paths: Record<string, OpenAPIPathItem> = {};
    const schemas: Record<string, JsonSchema> = {};
    const operationIds = new Set<string>();
    for (const router of this.routers) {
      for (const layer of router.stack) {
        if (typeof layer.path !== "string") continue;
        // HEAD comes with every GET; document it only when it is all a route answers.
        const methods = layer.methods.filter((m) => m !== "HEAD" || layer.methods.length === 1);
        if (methods.length === 0) continue; // middleware (`router.use`), not a route
        const path = toOpenAPIPath(layer.path);
        const item: OpenAPIPathItem = paths[path] ?? {};
        paths[path] = item;
        const spec = specOf(layer.stack);
        const described = spec ? describeRoute(spec, context) : undefined;
        if (described) Object.assign(schemas, described.schemas);
        for (const method of methods.map((m) => m.toLowerCase() as OpenAPIMethod)) {
          // As Koa dispatches: the first route registered for a method and path wins.
          if (item[method]) continue;
          const operation = described ? { ...described.operation } : undescribed(method, path);
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
    dropDanglingLinks(paths, operationIds);
    return { paths, schemas };
  }
}

/** Links to operations this document does not have (a router not mounted) are dropped. */
function dropDanglingLinks(paths: Record<string, OpenAPIPathItem>, ids: Set<string>): void {
  for (const item of Object.values(paths)) {
    for (const operation of Object.values(item)) {
      for (const response of Object.values(operation.responses)) {
        if (!response.links) continue;
        for (const [name, link] of Object.entries(response.links)) {
          if (link.operationId && !ids.has(link.operationId)) delete response.links[name];
        }
        if (Object.keys(response.links).length === 0) delete response.links;
      }
    }
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
