import type { Collection, Document } from "mongodb";

/**
 * A stand-in for a driver Collection that records every method called on it and fails
 * the call: for proving that some input never reaches the database.
 */
export function recordingCollection<T extends Document>(
  calls: string[],
  collectionName = "users",
): Collection<T> {
  const known: Record<string, unknown> = {
    dbName: "app",
    collectionName,
    namespace: `app.${collectionName}`,
  };
  return new Proxy({} as Collection<T>, {
    get(_target, property) {
      if (typeof property === "string" && property in known) return known[property];
      return (...args: unknown[]) => {
        calls.push(`${String(property)} ${JSON.stringify(args[0])}`);
        throw new Error(`unexpected driver call: ${String(property)}`);
      };
    },
  });
}
