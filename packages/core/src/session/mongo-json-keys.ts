// MongoDB refuses field names that start with `$` (and FerretDB v1 ones with `.`), but a
// session's data is the app's JSON: such keys are stored escaped, reversibly, as `~` and
// percent-escapes; every other key is stored as it is, so the document stays readable.
// Shared by both MongoDB adapters (db-mikroorm on MongoDB, db-mongo).
import type { JsonObject, JsonValue } from "./session.js";

const UNSAFE = /^[$~]|[.\0]/;
const ESCAPED = /[%.$\0]/g;

const escapeKey = (key: string) =>
  UNSAFE.test(key)
    ? `~${key.replace(ESCAPED, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`)}`
    : key;

const unescapeKey = (key: string) =>
  key.startsWith("~")
    ? key
        .slice(1)
        .replace(/%([0-9a-f]{2})/g, (_, hex: string) =>
          String.fromCharCode(Number.parseInt(hex, 16)),
        )
    : key;

function mapKeys(value: JsonValue, map: (key: string) => string): JsonValue {
  if (Array.isArray(value)) return value.map((item) => mapKeys(item, map));
  if (value === null || typeof value !== "object") return value;
  const out: JsonObject = {};
  for (const [key, inner] of Object.entries(value)) {
    const mapped = map(key);
    // A stored document is not trusted to be free of prototype keys.
    if (mapped === "__proto__" || mapped === "constructor" || mapped === "prototype") continue;
    out[mapped] = mapKeys(inner, map);
  }
  return out;
}

/** `data` as MongoDB can store it: `$`-leading and dotted keys escaped at every depth. */
export const toMongoJson = (data: JsonObject): JsonObject => mapKeys(data, escapeKey) as JsonObject;

/** What {@link toMongoJson} stored, as it was given. */
export const fromMongoJson = (stored: JsonObject): JsonObject =>
  mapKeys(stored, unescapeKey) as JsonObject;
