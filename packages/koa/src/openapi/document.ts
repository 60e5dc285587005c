import { isDeepStrictEqual } from "node:util";
import type { Transport } from "@tessera/core";
import {
  errorModelSchema,
  httpValidationErrorSchema,
  validationErrorSchema,
} from "./json-schema.js";
import type { DescribeContext } from "./operation.js";
import type { OpenAPIRegistry } from "./registry.js";
import type {
  OpenAPIDocument,
  OpenAPISecurityRequirement,
  OpenAPIServer,
  SecuritySchemeObject,
} from "./types.js";

/** Options of `tessera.openapi()`: the document's `info` and `servers`. */
export interface OpenAPIOptions {
  /** @default "Tessera" */
  title?: string;
  /** Version of the app's API (not of OpenAPI). @default "0.1.0" */
  version?: string;
  /** Markdown shown under the title. @default undefined */
  description?: string;
  /**
   * Where the API is reached; a URL path such as `"/api"` when the app mounts Tessera's
   * routers below a path the routers do not know. @default undefined (the document's origin)
   */
  servers?: OpenAPIServer[];
}

/** A backend as the document needs it: its name and transport. */
export interface DocumentedBackend {
  readonly name: string;
  readonly transport: Transport;
}

/** Security schemes by name, and which scheme each backend's transport is. */
export interface BackendSchemes {
  schemes: Record<string, SecuritySchemeObject>;
  /** Backend name -> scheme name. */
  byBackend: Map<string, string>;
}

/**
 * Each backend's security scheme, from its transport's `openapi` description. Backends
 * whose transports describe the same scheme share it; a name that another backend took
 * for a different scheme (two Bearer backends, each with its own `tokenUrl`) gets the
 * backend's name appended, so neither overwrites the other.
 */
export function backendSchemes(backends: readonly DocumentedBackend[]): BackendSchemes {
  const schemes: Record<string, SecuritySchemeObject> = {};
  const byBackend = new Map<string, string>();
  for (const { name, transport } of backends) {
    const { schemeName, securityScheme } = transport.openapi;
    const taken = schemes[schemeName];
    const scheme =
      taken === undefined || isDeepStrictEqual(taken, securityScheme)
        ? schemeName
        : `${schemeName}_${name}`;
    // A transport describes its scheme as OpenAPI security scheme objects, by contract.
    schemes[scheme] = securityScheme as unknown as SecuritySchemeObject;
    byBackend.set(name, scheme);
  }
  return { schemes, byBackend };
}

/** What the document needs of the `Tessera` instance besides its backends. */
export type DocumentContext = Pick<
  DescribeContext,
  "csrf" | "rateLimiter" | "readSchema" | "facts"
>;

/**
 * The OpenAPI 3.1 document of every router the registry recorded, secured by `backends`.
 *
 * @example
 * const document = buildDocument(registry, backends, context, { title: "My API" });
 */
export function buildDocument(
  registry: OpenAPIRegistry,
  backends: readonly DocumentedBackend[],
  context: DocumentContext,
  options: OpenAPIOptions = {},
): OpenAPIDocument {
  const { schemes, byBackend } = backendSchemes(backends);
  const security = (names?: readonly string[]): OpenAPISecurityRequirement[] => {
    const wanted = names ?? backends.map((b) => b.name);
    const unique = new Set(wanted.flatMap((name) => byBackend.get(name) ?? []));
    return [...unique].map((scheme) => ({ [scheme]: [] }));
  };
  const { paths, schemas } = registry.collect({
    ...context,
    security,
    transport: (name) => backends.find((b) => b.name === name)?.transport,
    backends: backends.map((b) => b.name),
  });
  const document: OpenAPIDocument = {
    openapi: "3.1.0",
    info: {
      title: options.title ?? "Tessera",
      version: options.version ?? "0.1.0",
      ...(options.description === undefined ? {} : { description: options.description }),
    },
    ...(options.servers ? { servers: options.servers } : {}),
    paths,
    components: {
      schemas: {
        ErrorModel: errorModelSchema,
        HTTPValidationError: httpValidationErrorSchema,
        ValidationError: validationErrorSchema,
        ...schemas,
      },
      securitySchemes: schemes,
    },
  };
  // Plain JSON, and a copy: the caller may edit it without touching shared constants.
  return structuredClone(document);
}
