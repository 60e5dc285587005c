import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { request as httpRequest } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import type { SessionStore } from "@tessera/core";
import {
  MemoryAccessTokenDatabase,
  MemoryUserDatabase,
  userCreateData,
} from "@tessera/core/testing";
import { DatabaseSessionStore } from "@tessera/strategy-database";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// docs/sessions-without-http.md promises a websocket server authenticating with
// validateSession; this runs the page's own code block, so the page cannot rot.
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const outDir = join(root, "test", "output", "docs");
const file = join(outDir, "sessions-websocket.ts");

function docCode(): string {
  const md = readFileSync(join(root, "docs", "sessions-without-http.md"), "utf8");
  const block = [...md.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((m) => m[1] ?? "")
    .find((code) => code.includes("export function websocketServer"));
  if (!block) throw new Error("no websocket server block in docs/sessions-without-http.md");
  return block;
}

type Factory = (
  sessions: SessionStore<string>,
  options?: { cookieName?: string; recheckMs?: number },
) => Server;

const users = new MemoryUserDatabase();
const sessions = new DatabaseSessionStore<string>({
  database: new MemoryAccessTokenDatabase(users),
});
let server: Server;
let port: number;

beforeAll(async () => {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(file, docCode());
  writeFileSync(join(outDir, "package.json"), '{ "type": "module" }\n');
  const { websocketServer } = (await import(pathToFileURL(file).href)) as {
    websocketServer: Factory;
  };
  server = websocketServer(sessions, { recheckMs: 50 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Opens a websocket with `headers`: the upgraded socket, or the refusal's status. */
function open(
  headers: Record<string, string>,
): Promise<{ socket?: Socket; head?: Buffer; status?: number }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: "127.0.0.1",
      port,
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        ...headers,
      },
    });
    req.on("upgrade", (res, socket, head) => {
      expect(res.headers["sec-websocket-accept"]).toBe("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
      resolve({ socket, head });
    });
    req.on("response", (res) => {
      res.resume();
      resolve({ status: res.statusCode });
    });
    req.on("error", reject);
    req.end();
  });
}

/** The server's frames (unmasked, short), as opcode and payload, until `count` arrived. */
function frames(
  { socket, head }: { socket: Socket; head?: Buffer },
  count: number,
): Promise<{ opcode: number; payload: Buffer }[]> {
  return new Promise((resolve) => {
    let buffer = Buffer.alloc(0);
    const out: { opcode: number; payload: Buffer }[] = [];
    const read = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (buffer.length < 2) break;
        let length = (buffer[1] ?? 0) & 0x7f;
        let offset = 2;
        if (length === 126) {
          length = buffer.readUInt16BE(2);
          offset = 4;
        }
        if (buffer.length < offset + length) break;
        out.push({
          opcode: (buffer[0] ?? 0) & 0x0f,
          payload: buffer.subarray(offset, offset + length),
        });
        buffer = buffer.subarray(offset + length);
      }
      if (out.length >= count) resolve(out);
    };
    // Frames sent with the 101 arrive as the upgrade's `head`.
    if (head?.length) read(head);
    socket.on("data", read);
  });
}

describe("docs/sessions-without-http.md", () => {
  it("its websocket server type-checks under strict TypeScript", async () => {
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
    const args = ["--ignoreConfig", "--noEmit", "--strict", "--module", "nodenext"];
    args.push("--target", "es2023", "--skipLibCheck", "--types", "node", file);
    await promisify(execFile)(process.execPath, [tsc, ...args], { cwd: outDir });
  }, 60_000);

  it("a session cookie opens the socket; the greeting carries the session and its data", async () => {
    const user = await users.create(userCreateData("ws@example.com"));
    const { token, session } = await sessions.createSession(user.id, { data: { theme: "dark" } });
    const { socket, head } = await open({ cookie: `other=1; tessera_auth=${token}` });
    if (!socket) throw new Error("not upgraded");
    const [hello] = await frames({ socket, head }, 1);
    expect(hello?.opcode).toBe(1);
    expect(JSON.parse(String(hello?.payload))).toEqual({
      userId: user.id,
      handle: session.handle,
      theme: "dark",
    });
    socket.destroy();
  });

  it("a missing, unknown or ended session is refused with 401 before the upgrade", async () => {
    const user = await users.create(userCreateData("ws-refused@example.com"));
    const { token, session } = await sessions.createSession(user.id);
    await sessions.invalidateSession(user.id, session.handle);
    expect((await open({})).status).toBe(401);
    expect((await open({ authorization: `Bearer ${"x".repeat(43)}` })).status).toBe(401);
    expect((await open({ cookie: `tessera_auth=${token}` })).status).toBe(401);
  });

  it("a Bearer token opens it too, and ending the session closes the open socket (4001)", async () => {
    const user = await users.create(userCreateData("ws-revoked@example.com"));
    const { token, session } = await sessions.createSession(user.id);
    const { socket, head } = await open({ authorization: `Bearer ${token}` });
    if (!socket) throw new Error("not upgraded");
    const received = frames({ socket, head }, 2);
    await new Promise((r) => setTimeout(r, 120));
    await sessions.invalidateUserSessions(user.id);
    const [, closing] = await received;
    expect(closing?.opcode).toBe(8);
    expect(closing?.payload.readUInt16BE(0)).toBe(4001);
    expect(session.handle).toBeTruthy();
    socket.destroy();
  });
});
