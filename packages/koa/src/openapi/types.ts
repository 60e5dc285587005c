/**
 * The parts of OpenAPI 3.1 that Tessera writes, as plain JSON types: enough to type the
 * document without a dependency on a full OpenAPI model.
 */

/** A JSON Schema in OpenAPI 3.1's dialect (draft 2020-12), as plain data. */
export type JsonSchema = Record<string, unknown>;

/** HTTP methods an OpenAPI path item can hold. */
export type OpenAPIMethod =
  | "get"
  | "put"
  | "post"
  | "delete"
  | "options"
  | "head"
  | "patch"
  | "trace";

/** `info` of the document. */
export interface OpenAPIInfo {
  title: string;
  version: string;
  description?: string;
}

/** One entry of `servers`: where the API is reached. */
export interface OpenAPIServer {
  url: string;
  description?: string;
}

/** A named example of a body. */
export interface OpenAPIExample {
  summary?: string;
  value: unknown;
}

/** A body in one media type. */
export interface OpenAPIMediaType {
  schema?: JsonSchema;
  examples?: Record<string, OpenAPIExample>;
}

/** A response header. */
export interface OpenAPIHeader {
  description?: string;
  schema: JsonSchema;
}

/** One response of an operation. */
export interface OpenAPIResponse {
  description: string;
  headers?: Record<string, OpenAPIHeader>;
  content?: Record<string, OpenAPIMediaType>;
}

/** A path, query, header or cookie parameter. */
export interface OpenAPIParameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required?: boolean;
  description?: string;
  schema: JsonSchema;
}

/** The body an operation accepts. */
export interface OpenAPIRequestBody {
  required?: boolean;
  description?: string;
  content: Record<string, OpenAPIMediaType>;
}

/** Scheme name -> scopes; a list of these is a list of alternatives. */
export type OpenAPISecurityRequirement = Record<string, string[]>;

/** One operation: a method on a path. */
export interface OpenAPIOperation {
  summary?: string;
  description?: string;
  operationId?: string;
  tags?: string[];
  parameters?: OpenAPIParameter[];
  requestBody?: OpenAPIRequestBody;
  /** By status code as a string (`"200"`, `"422"`). */
  responses: Record<string, OpenAPIResponse>;
  security?: OpenAPISecurityRequirement[];
}

/** The operations of one path, by method. */
export type OpenAPIPathItem = Partial<Record<OpenAPIMethod, OpenAPIOperation>>;

/** An OpenAPI 3.1 document, as `tessera.openapi()` returns it. */
export interface OpenAPIDocument {
  openapi: "3.1.0";
  info: OpenAPIInfo;
  servers?: OpenAPIServer[];
  /** By OpenAPI path (`/users/{id}`). */
  paths: Record<string, OpenAPIPathItem>;
  components: {
    schemas: Record<string, JsonSchema>;
    securitySchemes: Record<string, JsonSchema>;
  };
}
