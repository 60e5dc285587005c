import { isNotImplementedError } from "./driver-errors.js";

/**
 * Server features the adapters use when present and replace when the server answers
 * NotImplemented. FerretDB v1 lacks both: `$lookup` is not among its aggregation stages,
 * and `$expr` comparisons / `$add` are not implemented.
 */
export type Feature = "lookup" | "expr";

// Learned once per collection object and shared by every adapter built on it, so an app
// that makes an adapter per request (to pass a session) pays the failed probe once.
const known = new WeakMap<object, Partial<Record<Feature, boolean>>>();

/**
 * Runs `preferred` unless the server is known to lack `feature`; when the server answers
 * NotImplemented, remembers that and runs `fallback` (now and from then on).
 */
export async function withFeature<T>(
  key: object,
  feature: Feature,
  preferred: () => Promise<T>,
  fallback: () => Promise<T>,
): Promise<T> {
  let features = known.get(key);
  if (!features) {
    features = {};
    known.set(key, features);
  }
  if (features[feature] === false) return fallback();
  try {
    const result = await preferred();
    features[feature] = true;
    return result;
  } catch (error) {
    if (!isNotImplementedError(error)) throw error;
    features[feature] = false;
    return fallback();
  }
}

/** What the adapters learned about the server behind `key` (for tests and diagnostics). */
export function knownFeatures(key: object): Readonly<Partial<Record<Feature, boolean>>> {
  return { ...known.get(key) };
}
