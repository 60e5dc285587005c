import { BlockList, isIP } from "node:net";
import { ConfigurationError } from "@tessera/core";

/**
 * The client's address for rate limiting (ASVS 5.0 15.3.4): the TCP peer, unless the peer
 * is a trusted proxy — then `X-Forwarded-For` is read from the right, skipping trusted
 * proxies, and the first address not ours is the client. A client cannot choose its key by
 * sending the header itself: without a trusted peer the header is ignored.
 */
export class ClientAddress {
  private readonly trusted: BlockList | null;

  /** `trustedProxies`: addresses or CIDR ranges (`10.0.0.0/8`, `fd00::/8`) of your proxies. */
  constructor(trustedProxies: readonly string[] = []) {
    if (trustedProxies.length === 0) {
      this.trusted = null;
      return;
    }
    const list = new BlockList();
    for (const entry of trustedProxies) addTrusted(list, entry);
    this.trusted = list;
  }

  /**
   * The rate-limit key of a request's client: an IPv4 address, or the /64 network of an
   * IPv6 one (one subscriber usually holds a whole /64, and picks addresses in it at will).
   */
  keyOf(peer: string | undefined, forwardedFor: string | undefined): string {
    return groupKey(this.resolve(peer, forwardedFor));
  }

  /** The client address (normalized), before grouping; "unknown" without a usable peer. */
  resolve(peer: string | undefined, forwardedFor: string | undefined): string {
    const direct = normalize(peer);
    if (direct === null) return "unknown";
    if (!this.isTrusted(direct) || !forwardedFor) return direct;
    let client = direct;
    const hops = forwardedFor.split(",");
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalize(stripPort(hops[i]?.trim() ?? ""));
      // A malformed entry cannot be trusted as anyone: the last proxy that wrote one it
      // could vouch for is the client we know.
      if (hop === null) return client;
      client = hop;
      if (!this.isTrusted(hop)) return hop;
    }
    return client;
  }

  private isTrusted(address: string): boolean {
    if (!this.trusted) return false;
    return this.trusted.check(address, isIP(address) === 6 ? "ipv6" : "ipv4");
  }
}

function addTrusted(list: BlockList, entry: string): void {
  const [address = "", prefix, ...rest] = String(entry).trim().split("/");
  const normalized = normalize(address);
  const family = normalized === null ? 0 : isIP(normalized);
  const bits = prefix === undefined ? (family === 6 ? 128 : 32) : Number(prefix);
  if (
    normalized === null ||
    rest.length > 0 ||
    !Number.isInteger(bits) ||
    bits < 0 ||
    bits > (family === 6 ? 128 : 32) ||
    (prefix !== undefined && !/^\d+$/.test(prefix))
  ) {
    throw new ConfigurationError(
      `rateLimit.trustedProxies: "${entry}" is not an IP address or CIDR range`,
    );
  }
  list.addSubnet(normalized, bits, family === 6 ? "ipv6" : "ipv4");
}

/** `1.2.3.4:80` -> `1.2.3.4`, `[2001:db8::1]:443` -> `2001:db8::1` (proxies that add ports). */
function stripPort(hop: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed) return bracketed[1] ?? "";
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(hop);
  return v4 ? (v4[1] ?? "") : hop;
}

/**
 * A valid address in canonical form (lower-case IPv6, no zone, IPv4-mapped IPv6 as IPv4),
 * or null.
 */
export function normalize(address: string | undefined): string | null {
  if (!address) return null;
  let a = address.trim();
  const zone = a.indexOf("%");
  if (zone >= 0) a = a.slice(0, zone);
  const family = isIP(a);
  if (family === 4) return a;
  if (family !== 6) return null;
  const groups = expandIPv6(a.toLowerCase());
  if (!groups) return null;
  // ::ffff:a.b.c.d is an IPv4 client on a dual-stack socket: the same client as a.b.c.d.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return groups.map((g) => g.toString(16)).join(":");
}

/** The eight 16-bit groups of a valid IPv6 address (`isIP` has checked it). */
function expandIPv6(address: string): number[] | null {
  let text = address;
  const tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a = 0, b = 0, c = 0, d = 0] = (v4[1] ?? "").split(".").map(Number);
    tail.push((a << 8) | b, (c << 8) | d);
    // "::ffff:1.2.3.4" -> "::ffff:0:0": two placeholder groups, replaced by the tail's two.
    text = `${text.slice(0, -(v4[1] ?? "").length)}0:0`;
  }
  const [head = "", rest] = text.split("::");
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((g) => parseInt(g, 16)));
  let groups: number[];
  if (rest === undefined) {
    groups = parse(head);
  } else {
    const left = parse(head);
    const right = parse(rest);
    groups = [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  }
  if (tail.length > 0) groups = [...groups.slice(0, -2), ...tail];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff)
    ? groups
    : null;
}

/** IPv4 as is; IPv6 as its /64 network, e.g. `2001:db8:1:2::/64`. */
export function groupKey(address: string): string {
  if (isIP(address) !== 6) return address;
  return `${address.split(":").slice(0, 4).join(":")}::/64`;
}
