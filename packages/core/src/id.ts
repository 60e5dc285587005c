import { InvalidIDError } from "./errors.js";

/** Turns an id received as a string (URL, token claim) into the app's id type. */
export interface IdParser<ID> {
  /** Throws {@link InvalidIDError} when `value` is not a valid id. */
  parse(value: unknown): ID;
  /** The string form used in token claims. */
  stringify(id: ID): string;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** UUID ids (the default), normalized to lower case. */
export const uuidIdParser: IdParser<string> = {
  parse(value) {
    if (typeof value !== "string" || !UUID_RE.test(value)) throw new InvalidIDError();
    return value.toLowerCase();
  },
  stringify: (id) => id,
};

/** Positive integer ids (SQL serial / identity columns). */
export const integerIdParser: IdParser<number> = {
  parse(value) {
    if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) return value;
    if (typeof value === "string" && /^[1-9][0-9]{0,15}$/.test(value)) {
      const n = Number(value);
      if (Number.isSafeInteger(n)) return n;
    }
    throw new InvalidIDError();
  },
  stringify: (id) => String(id),
};

const OBJECT_ID_RE = /^[0-9a-f]{24}$/i;

/** MongoDB ObjectId ids kept as their 24-hex-digit string form. */
export const objectIdStringParser: IdParser<string> = {
  parse(value) {
    if (typeof value !== "string" || !OBJECT_ID_RE.test(value)) throw new InvalidIDError();
    return value.toLowerCase();
  },
  stringify: (id) => id,
};
