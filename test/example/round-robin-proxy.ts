// A small reverse proxy on loopback for the multi-instance test: it hands each request to
// the next instance in turn (strict round robin, per request, not per connection), adds
// X-Forwarded-For and X-Forwarded-Proto as nginx's `proxy_add_x_forwarded_for` does, and
// says in `x-served-by` which instance answered, so a test can check that two consecutive
// requests really reached two different processes.
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** One instance behind the proxy. */
export interface Upstream {
  /** What `x-served-by` says, e.g. "A". */
  name: string;
  /** Its own address, e.g. http://127.0.0.1:4100. */
  url: string;
}

export interface RoundRobinProxy {
  /** The proxy's own URL (http://127.0.0.1:<port>): what clients and APP_URL use. */
  url: string;
  port: number;
  /** The instances, in turn; set (or replaced) once they are listening. */
  upstreams: Upstream[];
  /** The name of the instance the next request will reach. */
  next(): string;
  /** Requests answered by each instance, by name. */
  served: Map<string, number>;
  close(): Promise<void>;
}

/** The response header naming the instance that answered. */
export const SERVED_BY = "x-served-by";

// Hop-by-hop headers (RFC 9110 §7.6.1): each side of the proxy has its own connection.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
]);

/**
 * Starts the proxy on 127.0.0.1. Its connections to the instances come from 127.0.0.1 (the
 * address an app's `TRUSTED_PROXIES` names), whatever loopback address a client used.
 */
export async function startRoundRobinProxy(upstreams: Upstream[] = []): Promise<RoundRobinProxy> {
  const agent = new Agent({ keepAlive: true, timeout: 4_000, localAddress: "127.0.0.1" });
  const served = new Map<string, number>();
  let turn = 0;
  const proxy: RoundRobinProxy = {
    url: "",
    port: 0,
    upstreams,
    served,
    next: () => proxy.upstreams[turn % proxy.upstreams.length]?.name ?? "",
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      agent.destroy();
    },
  };

  const server = createServer((req, res) => {
    const upstream = proxy.upstreams[turn++ % proxy.upstreams.length];
    if (!upstream) {
      res.writeHead(503).end("no upstream");
      return;
    }
    const target = new URL(upstream.url);
    const headers: IncomingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (!HOP_BY_HOP.has(name)) headers[name] = value;
    }
    // Appended, as a proxy does: whatever the client sent stays on the left.
    const peer = (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
    const prior = req.headers["x-forwarded-for"];
    headers["x-forwarded-for"] = prior ? `${prior}, ${peer}` : peer;
    headers["x-forwarded-proto"] = "http";
    const forwarded = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers,
        agent,
      },
      (answer) => {
        served.set(upstream.name, (served.get(upstream.name) ?? 0) + 1);
        const raw: string[] = [];
        for (let i = 0; i + 1 < answer.rawHeaders.length; i += 2) {
          const name = answer.rawHeaders[i] as string;
          if (!HOP_BY_HOP.has(name.toLowerCase()))
            raw.push(name, answer.rawHeaders[i + 1] as string);
        }
        raw.push(SERVED_BY, upstream.name);
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, raw);
        answer.pipe(res);
      },
    );
    forwarded.on("error", (error) => {
      if (!res.headersSent) res.writeHead(502, { [SERVED_BY]: upstream.name });
      res.end(`bad gateway: ${error.message}`);
    });
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.url = `http://127.0.0.1:${proxy.port}`;
  return proxy;
}
