import { InvalidSessionDataError, SessionDataTooLargeError } from "../errors.js";
import type { JsonObject, SessionDevice } from "./session.js";

/** Limits of what a session holds. */
export interface SessionLimits {
  /** Largest session data, in bytes of its JSON. @default 16384 */
  maxDataBytes?: number;
  /** Largest claims, in bytes of their JSON (they travel in every JWT). @default 2048 */
  maxClaimsBytes?: number;
}

/** The defaults of {@link SessionLimits}. */
export const DEFAULT_SESSION_LIMITS: Readonly<Required<SessionLimits>> = Object.freeze({
  maxDataBytes: 16_384,
  maxClaimsBytes: 2048,
});

/** Bounds of {@link SessionDevice}'s fields, in characters. */
export const SESSION_DEVICE_LIMITS = Object.freeze({ ipAddress: 64, userAgent: 512 });

// Keys that would reach a prototype if a later step used assignment.
const POLLUTION_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * `value` as a plain JSON object within `maxBytes`, with prototype keys dropped at every
 * depth: throws {@link InvalidSessionDataError} for anything else (a non-object, a value
 * JSON cannot hold), {@link SessionDataTooLargeError} over the limit.
 */
export function checkSessionJson(
  value: unknown,
  what: "data" | "claims",
  maxBytes: number,
): JsonObject {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidSessionDataError(`Session ${what} must be a JSON object`);
  }
  let json: string;
  try {
    json = JSON.stringify(value, (key, inner) => (POLLUTION_KEYS.has(key) ? undefined : inner));
  } catch {
    throw new InvalidSessionDataError(`Session ${what} must be JSON (no cycles, no BigInt)`);
  }
  if (Buffer.byteLength(json) > maxBytes) throw new SessionDataTooLargeError(what, maxBytes);
  return JSON.parse(json) as JsonObject;
}

/**
 * `data` with `patch`'s top-level keys set (a `null` value deletes the key), checked as
 * {@link checkSessionJson} checks data.
 */
export function mergeSessionJson(
  data: JsonObject,
  patch: JsonObject,
  maxBytes: number,
): JsonObject {
  const checked = checkSessionJson(patch, "data", maxBytes);
  const merged: JsonObject = { ...data };
  for (const [key, value] of Object.entries(checked)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return checkSessionJson(merged, "data", maxBytes);
}

/** A device with both fields bounded (cut, not refused: a long user agent is not an attack). */
export function boundDevice(device: Partial<SessionDevice> | undefined): SessionDevice {
  const cut = (value: string | null | undefined, max: number) =>
    typeof value === "string" && value.length > 0 ? value.slice(0, max) : null;
  return {
    ipAddress: cut(device?.ipAddress, SESSION_DEVICE_LIMITS.ipAddress),
    userAgent: cut(device?.userAgent, SESSION_DEVICE_LIMITS.userAgent),
  };
}
