// The tests' one HTTP client, on node:http: keep-alive connections, any header and body
// Node will put on the wire (fetch refuses some), a cookie jar when asked for, raw sockets
// for what no client sends, and how each backend of the test app logs in.
import { Agent, request as httpRequest } from "node:http";
import { connect } from "node:net";

/** An answer: status, headers, body text (and JSON when it parses), time to the answer. */
export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
  ms: number;
}

/** One request for {@link Client.send}: anything Node's HTTP client will put on the wire. */
export interface Outgoing {
  method?: string;
  path: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}

/** A request by what it carries: a JSON body, a form, or raw bytes, and how it logs in. */
export interface RequestOptions {
  /** Defaults to GET without a body, POST with one. */
  method?: string;
  json?: unknown;
  form?: Record<string, string>;
  raw?: string | Buffer;
  headers?: Record<string, string>;
  /** Sent as `Authorization: Bearer …`. */
  bearer?: string;
  /** Send the jar's `tessera_csrf` cookie in `x-csrf-token`, as the example app's page does. */
  csrf?: boolean;
}

export interface ClientOptions {
  /** Connections kept open at once. @default 16 */
  maxSockets?: number;
  /** How long a request may wait for its answer before it counts as a hang. @default 10_000 */
  timeoutMs?: number;
  /** Keep the cookies the server sets and send them back, as a browser does. @default false */
  cookieJar?: boolean;
  /** Share an agent instead of making one. */
  agent?: Agent;
}

// An idle connection is closed after 4 s, before the server's 5 s keep-alive timeout (as
// undici does), so a request never goes out on a connection the server is closing.
const keepAliveAgent = (maxSockets = Infinity) =>
  new Agent({ keepAlive: true, maxSockets, timeout: 4_000 });

/** A client of one server (`baseUrl`), reusing its connections. */
export class Client {
  readonly agent: Agent;
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  /** The cookie jar: filled only with `cookieJar: true`. */
  readonly cookies = new Map<string, string>();
  private readonly jar: boolean;

  constructor(
    readonly baseUrl: string,
    options: ClientOptions = {},
  ) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port || 80);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.jar = options.cookieJar ?? false;
    this.agent = options.agent ?? keepAliveAgent(options.maxSockets ?? 16);
  }

  /** Sends `req` as it is (plus the jar's cookies, when kept). */
  send(req: Outgoing, timeoutMs = this.timeoutMs): Promise<Reply> {
    const started = performance.now();
    const headers: Record<string, string | string[] | number> = { ...req.headers };
    if (req.body !== undefined) headers["content-length"] = Buffer.byteLength(req.body);
    if (this.jar && this.cookies.size > 0) {
      headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    }
    return new Promise<Reply>((resolve, reject) => {
      const r = httpRequest(
        {
          host: this.host,
          port: this.port,
          method: req.method ?? (req.body === undefined ? "GET" : "POST"),
          path: req.path,
          headers,
          agent: this.agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const ms = performance.now() - started;
            const text = Buffer.concat(chunks).toString("utf8");
            let body: unknown = text;
            try {
              body = text ? JSON.parse(text) : undefined;
            } catch {
              // not JSON
            }
            const replyHeaders = new Headers();
            for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
              replyHeaders.append(res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string);
            }
            if (this.jar) this.keep(replyHeaders.getSetCookie());
            resolve({ status: res.statusCode ?? 0, headers: replyHeaders, text, body, ms });
          });
        },
      );
      r.setTimeout(timeoutMs, () => {
        r.destroy(new Error(`no answer within ${timeoutMs} ms: ${req.method ?? ""} ${req.path}`));
      });
      r.on("error", reject);
      r.end(req.body);
    });
  }

  /** A request by what it carries (see {@link RequestOptions}). */
  request(method: string, path: string, init: RequestOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...init.headers };
    let body: string | Buffer | undefined;
    if (init.json !== undefined) {
      headers["content-type"] ??= "application/json";
      body = JSON.stringify(init.json);
    } else if (init.form) {
      headers["content-type"] ??= "application/x-www-form-urlencoded";
      body = new URLSearchParams(init.form).toString();
    } else if (init.raw !== undefined) {
      body = init.raw;
    }
    if (init.bearer) headers.authorization = `Bearer ${init.bearer}`;
    if (init.csrf) headers["x-csrf-token"] = this.cookies.get("tessera_csrf") ?? "";
    return this.send({ method, path, headers, body });
  }

  json(path: string, body: unknown, headers: Record<string, string> = {}, method = "POST") {
    return this.request(method, path, { json: body, headers });
  }

  form(path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
    return this.request("POST", path, { form: fields, headers });
  }

  close(): void {
    this.agent.destroy();
  }

  private keep(setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = "", ...attributes] = line.split(";");
      const [name = "", value = ""] = pair.split("=");
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (expired || value === "") this.cookies.delete(name.trim());
      else this.cookies.set(name.trim(), value);
    }
  }
}

// One-off requests by absolute URL share one keep-alive agent and wait as long as a test may.
const oneOffAgent = keepAliveAgent();
const ONE_OFF_TIMEOUT_MS = 30_000;

/** One request to an absolute `url` (see {@link RequestOptions}). */
export function request(url: string, init: RequestOptions = {}): Promise<Reply> {
  const { origin, pathname, search } = new URL(url);
  const hasBody = init.json !== undefined || init.form !== undefined || init.raw !== undefined;
  return new Client(origin, { timeoutMs: ONE_OFF_TIMEOUT_MS, agent: oneOffAgent }).request(
    init.method ?? (hasBody ? "POST" : "GET"),
    pathname + search,
    init,
  );
}

/**
 * Writes `data` on a raw TCP connection and returns the status of the first answer, or 0
 * when the server closed without one. For what no HTTP client sends: bare CR/LF in
 * headers, NUL bytes, duplicate Authorization headers.
 */
export function rawRequest(
  port: number,
  data: string | Buffer,
  timeoutMs = 5000,
): Promise<{ status: number; text: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, text, ms: performance.now() - started });
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`raw request: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("data", (chunk) => {
      text += chunk.toString("latin1");
      // One answer is enough: headers complete and, when announced, the whole body.
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) return;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text)?.[1] ?? 0);
      if (text.length >= end + 4 + length) done();
    });
    socket.on("end", done);
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ECONNRESET" || error.code === "EPIPE") done();
      else reject(error);
    });
    socket.write(data);
  });
}

/** How a test authenticates: a header for Bearer, a Cookie header for the cookie backend. */
export interface AuthMode {
  name: "jwt" | "cookie" | "db";
  /** Logs in and returns the headers that carry the token. */
  login(baseUrl: string, email: string, password: string): Promise<Record<string, string>>;
}

function bearer(name: "jwt" | "db"): AuthMode {
  return {
    name,
    async login(baseUrl, email, password) {
      const res = await request(`${baseUrl}/auth/${name}/login`, {
        form: { username: email, password },
      });
      if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
      return { authorization: `Bearer ${(res.body as { access_token: string }).access_token}` };
    },
  };
}

export const bearerMode = bearer("jwt");
export const dbMode = bearer("db");

export const cookieMode: AuthMode = {
  name: "cookie",
  // A non-browser client: it sends no Origin, so it echoes the CSRF cookie in a header.
  async login(baseUrl, email, password) {
    const res = await request(`${baseUrl}/auth/cookie/login`, {
      form: { username: email, password },
    });
    if (res.status !== 204) throw new Error(`login failed: ${res.status} ${res.text}`);
    const cookies = res.headers.getSetCookie().map((c) => c.split(";")[0] ?? "");
    const csrf =
      cookies.find((c) => c.startsWith("tessera_csrf="))?.slice("tessera_csrf=".length) ?? "";
    return { cookie: cookies.join("; "), "x-csrf-token": csrf };
  },
};

export const modes = [bearerMode, cookieMode, dbMode];

export async function register(
  baseUrl: string,
  email: string,
  password = "correct horse battery",
  extra: Record<string, unknown> = {},
): Promise<Reply> {
  return request(`${baseUrl}/auth/register`, { json: { email, password, ...extra } });
}
