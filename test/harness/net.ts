// Small network helpers: picking free loopback ports and probing servers without drivers,
// so the harness can tell "started" from "serving" cheaply.
import { connect, createServer, type Socket } from "node:net";

const taken = new Set<number>();

function canBind(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * A free port on 127.0.0.1. Chosen at random in 20000–44999 rather than letting the kernel
 * pick: ephemeral ports (32768+) can exceed 55535, and a Redis Cluster node also needs
 * port + 10000 (its cluster bus) to be valid and free — pass `withBus` for those.
 */
export async function freePort(withBus = false): Promise<number> {
  for (let i = 0; i < 500; i++) {
    const port = 20000 + Math.floor(Math.random() * 25000);
    if (taken.has(port) || (withBus && taken.has(port + 10000))) continue;
    if (!(await canBind(port)) || (withBus && !(await canBind(port + 10000)))) continue;
    taken.add(port);
    if (withBus) taken.add(port + 10000);
    return port;
  }
  throw new Error("tessera harness: no free loopback port found");
}

function withSocket<T>(
  port: number,
  host: string,
  onConnect: (s: Socket, done: (v: T) => void) => void,
  fallback: T,
): Promise<T> {
  return new Promise((resolve) => {
    const s = connect({ port, host });
    let settled = false;
    const done = (v: T) => {
      if (settled) return;
      settled = true;
      s.destroy();
      resolve(v);
    };
    s.setTimeout(1000, () => done(fallback));
    s.once("error", () => done(fallback));
    s.once("connect", () => onConnect(s, done));
  });
}

/** Whether something accepts TCP connections on host:port. */
export function portOpen(port: number, host = "127.0.0.1"): Promise<boolean> {
  return withSocket(port, host, (_s, done) => done(true), false);
}

/**
 * Sends one inline Redis command and returns the raw reply text ("" on failure). Enough for
 * PING and CLUSTER INFO; avoids loading ioredis in the vitest main process.
 */
export function redisCommand(port: number, command: string, host = "127.0.0.1"): Promise<string> {
  return withSocket(
    port,
    host,
    (s, done) => {
      let buf = "";
      s.on("data", (chunk) => {
        buf += chunk.toString("utf8");
        if (replyComplete(buf)) done(buf);
      });
      s.write(`${command}\r\n`);
    },
    "",
  );
}

function replyComplete(buf: string): boolean {
  const eol = buf.indexOf("\r\n");
  if (eol < 0) return false;
  if (buf[0] !== "$") return true; // +OK, -ERR, :1 are one line
  const len = Number(buf.slice(1, eol));
  return len < 0 || Buffer.byteLength(buf) >= eol + 2 + len + 2;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it returns true, or throws `what` after `timeoutMs`. */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 20; ; delay = Math.min(delay * 2, 200)) {
    if (await check()) return;
    if (Date.now() > deadline)
      throw new Error(`tessera harness: timed out after ${timeoutMs} ms ${what}`);
    await sleep(delay);
  }
}
