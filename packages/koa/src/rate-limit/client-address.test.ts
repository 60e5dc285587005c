import { ConfigurationError } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { ClientAddress, groupKey, normalize } from "./client-address.js";

describe("client address for rate limiting (ASVS 5.0 15.3.4)", () => {
  it("without trusted proxies X-Forwarded-For is ignored: the peer is the client", () => {
    const address = new ClientAddress();
    expect(address.resolve("203.0.113.7", "198.51.100.1")).toBe("203.0.113.7");
    expect(address.keyOf("203.0.113.7", "1.1.1.1, 2.2.2.2")).toBe("203.0.113.7");
  });

  it("behind a trusted proxy, the rightmost address that is not a trusted proxy is the client", () => {
    const address = new ClientAddress(["10.0.0.0/8", "127.0.0.1"]);
    expect(address.resolve("10.1.2.3", "198.51.100.1")).toBe("198.51.100.1");
    // A client cannot choose its address by prepending its own entries.
    expect(address.resolve("10.1.2.3", "6.6.6.6, 198.51.100.1, 10.9.9.9")).toBe("198.51.100.1");
    expect(address.resolve("127.0.0.1", " 198.51.100.1 ")).toBe("198.51.100.1");
    // A peer that is not trusted: its header is the client's own claim.
    expect(address.resolve("192.0.2.5", "198.51.100.1")).toBe("192.0.2.5");
  });

  it("every hop trusted: the leftmost; a malformed hop: the last address a proxy vouched for", () => {
    const address = new ClientAddress(["10.0.0.0/8"]);
    expect(address.resolve("10.0.0.1", "10.0.0.3, 10.0.0.2")).toBe("10.0.0.3");
    expect(address.resolve("10.0.0.1", "198.51.100.1, garbage")).toBe("10.0.0.1");
    expect(address.resolve("10.0.0.1", "198.51.100.1, 10.0.0.2, <script>")).toBe("10.0.0.1");
    expect(address.resolve("10.0.0.1", "")).toBe("10.0.0.1");
  });

  it("reads ports and brackets that proxies add", () => {
    const address = new ClientAddress(["10.0.0.0/8"]);
    expect(address.resolve("10.0.0.1", "198.51.100.1:4711")).toBe("198.51.100.1");
    expect(address.resolve("10.0.0.1", "[2001:db8::1]:443")).toBe("2001:db8:0:0:0:0:0:1");
  });

  it("IPv4-mapped IPv6 is IPv4, for the peer and for trusted ranges", () => {
    const address = new ClientAddress(["127.0.0.1"]);
    expect(address.resolve("::ffff:127.0.0.1", "198.51.100.1")).toBe("198.51.100.1");
    expect(normalize("::ffff:203.0.113.7")).toBe("203.0.113.7");
  });

  it("groups IPv6 by /64, in any spelling; IPv4 stays whole", () => {
    const address = new ClientAddress(["::1"]);
    const keys = [
      "2001:db8:1:2::1",
      "2001:DB8:1:2:ffff:ffff:ffff:ffff",
      "2001:0db8:0001:0002::9",
    ].map((hop) => address.keyOf("::1", hop));
    expect(new Set(keys)).toEqual(new Set(["2001:db8:1:2::/64"]));
    expect(address.keyOf("::1", "2001:db8:1:3::1")).toBe("2001:db8:1:3::/64");
    expect(groupKey("203.0.113.7")).toBe("203.0.113.7");
    expect(address.keyOf("fe80::1%eth0", undefined)).toBe("fe80:0:0:0::/64");
  });

  it("no usable peer is one shared 'unknown' client, never a bypass", () => {
    expect(new ClientAddress().keyOf(undefined, "198.51.100.1")).toBe("unknown");
  });

  it.each(["10.0.0.0/33", "not-an-ip", "10.0.0.0/8/8", "::1/129", "10.0.0.0/x", ""])(
    "refuses the trusted proxy %o at construction",
    (entry) => {
      expect(() => new ClientAddress([entry])).toThrow(ConfigurationError);
    },
  );
});
