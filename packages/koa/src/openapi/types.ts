/**
 * The OpenAPI 3.1 objects Tessera writes: openapi3-ts's `oas31` model, narrowed to what
 * Tessera puts there (no `$ref` where it writes none), so a reader need not test for one.
 */
import type { oas31 } from "openapi3-ts";

export type {
  LinkObject,
  ParameterObject,
  SecurityRequirementObject,
  SecuritySchemeObject,
  ServerObject,
} from "openapi3-ts/oas31";

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
export type OpenAPIInfo = oas31.InfoObject;

/** One entry of `servers`: where the API is reached. */
export type OpenAPIServer = oas31.ServerObject;

/** A named example of a body. */
export type OpenAPIExample = oas31.ExampleObject;

/** A body in one media type. */
export interface OpenAPIMediaType extends oas31.MediaTypeObject {
  schema?: JsonSchema;
  examples?: Record<string, OpenAPIExample>;
}

/** A response header. */
export interface OpenAPIHeader extends oas31.HeaderObject {
  schema: JsonSchema;
}

/** One response of an operation. */
export interface OpenAPIResponse extends oas31.ResponseObject {
  headers?: Record<string, OpenAPIHeader>;
  content?: Record<string, OpenAPIMediaType>;
  links?: Record<string, oas31.LinkObject>;
}

/** A path, query, header or cookie parameter. */
export interface OpenAPIParameter extends oas31.ParameterObject {
  schema: JsonSchema;
}

/** The body an operation accepts. */
export interface OpenAPIRequestBody extends oas31.RequestBodyObject {
  content: Record<string, OpenAPIMediaType>;
}

/** Scheme name -> scopes; a list of these is a list of alternatives. */
export type OpenAPISecurityRequirement = oas31.SecurityRequirementObject;

/** One operation: a method on a path. */
export interface OpenAPIOperation extends oas31.OperationObject {
  parameters?: OpenAPIParameter[];
  requestBody?: OpenAPIRequestBody;
  /** By status code as a string (`"200"`, `"422"`). */
  responses: Record<string, OpenAPIResponse>;
  security?: OpenAPISecurityRequirement[];
}

/** The operations of one path, by method. */
export type OpenAPIPathItem = Partial<Record<OpenAPIMethod, OpenAPIOperation>>;

/** An OpenAPI 3.1 document, as `tessera.openapi()` returns it. */
export interface OpenAPIDocument extends oas31.OpenAPIObject {
  openapi: "3.1.0";
  info: OpenAPIInfo;
  servers?: OpenAPIServer[];
  /** By OpenAPI path (`/users/{id}`). */
  paths: Record<string, OpenAPIPathItem>;
  components: {
    schemas: Record<string, JsonSchema>;
    securitySchemes: Record<string, oas31.SecuritySchemeObject>;
  };
}
