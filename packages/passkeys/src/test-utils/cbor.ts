/**
 * A minimal CBOR encoder (RFC 8949) for the software authenticator: unsigned and negative
 * integers, byte and text strings, arrays and maps (integer or text keys). No floats, no tags.
 */
export type CborValue =
  | number
  | string
  | Uint8Array
  | CborValue[]
  | Map<number | string, CborValue>;

export function encodeCbor(value: CborValue): Uint8Array {
  const out: number[] = [];
  write(out, value);
  return Uint8Array.from(out);
}

function head(out: number[], major: number, length: number): void {
  const m = major << 5;
  if (length < 24) out.push(m | length);
  else if (length < 0x100) out.push(m | 24, length);
  else if (length < 0x10000) out.push(m | 25, length >> 8, length & 0xff);
  else
    out.push(
      m | 26,
      (length >>> 24) & 0xff,
      (length >> 16) & 0xff,
      (length >> 8) & 0xff,
      length & 0xff,
    );
}

function write(out: number[], value: CborValue): void {
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new TypeError("CBOR: integers only");
    if (value >= 0) head(out, 0, value);
    else head(out, 1, -1 - value);
  } else if (typeof value === "string") {
    const bytes = new TextEncoder().encode(value);
    head(out, 3, bytes.length);
    out.push(...bytes);
  } else if (value instanceof Uint8Array) {
    head(out, 2, value.length);
    out.push(...value);
  } else if (Array.isArray(value)) {
    head(out, 4, value.length);
    for (const item of value) write(out, item);
  } else {
    head(out, 5, value.size);
    for (const [key, item] of value) {
      write(out, key);
      write(out, item);
    }
  }
}
