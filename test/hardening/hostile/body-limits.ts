// Hostile input (suite.ts): bodies too large, too deep or too wide, and duplicated form
// fields: cut off or refused, fast (ASVS 5.0 15.2.2, 4.2.1, 15.3.7).
import { connect } from "node:net";
import { expect, it } from "vitest";
import { BACKENDS, PASSWORD } from "../support.js";
import { expect4xx, FAST_MS, type HostileFixture } from "./fixture.js";

/** Registers its tests in the caller's `describe`, against the fixture's app. */
export function bodyLimits(h: HostileFixture): void {
  /**
   * Sends `total` bytes to `path` in 64 KiB writes, each after the previous one drained,
   * and stops as soon as an answer arrives. Returns the answer and how much was written.
   */
  function flood(
    path: string,
    total: number,
    headers: Record<string, string>,
    declareLength: boolean,
  ): Promise<{ status: number; ms: number; written: number }> {
    const started = performance.now();
    const head = [
      `POST ${path} HTTP/1.1`,
      "host: 127.0.0.1",
      // Keep-alive: with "close" the server shuts the socket after its 413 while we still
      // write, and the kernel's reset can drop the 413 before we read it.
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      declareLength ? `content-length: ${total}` : "transfer-encoding: chunked",
    ].join("\r\n");
    const chunk = Buffer.alloc(64 * 1024, "a");
    const piece = declareLength
      ? chunk
      : Buffer.concat([
          Buffer.from(`${chunk.length.toString(16)}\r\n`),
          chunk,
          Buffer.from("\r\n"),
        ]);
    return new Promise((resolve, reject) => {
      let written = 0;
      let answered = false;
      let text = "";
      const finish = (status: number) => {
        if (answered) return;
        answered = true;
        socket.destroy();
        resolve({ status, ms: performance.now() - started, written });
      };
      // Paced like a client on a fast link (64 KiB a millisecond), so that what was
      // written when the answer came is what the server took, not what the kernel buffered.
      const pump = () => {
        if (answered) return;
        if (written >= total) {
          if (!declareLength) socket.write("0\r\n\r\n");
          return;
        }
        written += chunk.length;
        if (socket.write(piece)) setTimeout(pump, 1);
        else socket.once("drain", pump);
      };
      const socket = connect(h.port, "127.0.0.1", () => {
        socket.write(`${head}\r\n\r\n`);
        pump();
      });
      socket.on("data", (data: Buffer) => {
        text += data.toString("latin1");
        const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
        if (status) finish(Number(status));
      });
      socket.on("error", (error: NodeJS.ErrnoException) => {
        // Closed on us before we read an answer: what was written is still the measure.
        if (error.code === "ECONNRESET" || error.code === "EPIPE") finish(0);
        else if (!answered) reject(error);
      });
    });
  }

  it.each([
    ["/auth/register", { "content-type": "application/json" }],
    ["/auth/db/login", { "content-type": "application/x-www-form-urlencoded" }],
    ["/auth/forgot-password", { "content-type": "application/json" }],
  ] as const)(
    "ASVS 5.0 15.2.2: a 10 MB body to %s -> 413 before it is read, declared or chunked",
    async (path, headers) => {
      const TEN_MB = 10 * 1024 * 1024;
      for (const declared of [true, false]) {
        const res = await flood(path, TEN_MB, headers, declared);
        console.log(
          `[${h.storeName}] 10 MB to ${path} (${declared ? "Content-Length" : "chunked"}): ` +
            `${res.status} after ${Math.round(res.ms)} ms, ${Math.round(res.written / 1024)} KiB sent`,
        );
        expect(res.status, `declared=${declared}`).toBe(413);
        expect(res.ms, `declared=${declared}`).toBeLessThan(FAST_MS);
        // Cut off: the answer came while most of the 10 MB was still unsent.
        expect(res.written, `declared=${declared}`).toBeLessThan(TEN_MB / 5);
      }
      await h.unchanged();
    },
  );

  it("ASVS 5.0 4.2.1: an over-limit body made of requests is cut off, never run as requests", async () => {
    const inner = `GET /users/me HTTP/1.1\r\nhost: x\r\nauthorization: ${h.victim.sessions.db?.authorization}\r\n\r\n`;
    const payload = inner.repeat(Math.ceil(120_000 / inner.length));
    for (const chunked of [false, true]) {
      const head = [
        "POST /auth/register HTTP/1.1",
        "host: 127.0.0.1",
        "content-type: application/json",
        chunked ? "transfer-encoding: chunked" : `content-length: ${payload.length}`,
      ].join("\r\n");
      const body = chunked ? `${payload.length.toString(16)}\r\n${payload}\r\n0\r\n\r\n` : payload;
      // Everything the server answers within half a second of its first answer.
      const text = await new Promise<string>((resolve) => {
        let out = "";
        const socket = connect(h.port, "127.0.0.1", () => socket.write(`${head}\r\n\r\n${body}`));
        const done = () => {
          socket.destroy();
          resolve(out);
        };
        const timer = setTimeout(done, 3000);
        socket.on("data", (d: Buffer) => {
          if (out === "") {
            clearTimeout(timer);
            setTimeout(done, 500);
          }
          out += d.toString("latin1");
        });
        socket.on("error", () => {});
      });
      const statuses = text.split("\r\n").filter((line) => line.startsWith("HTTP/1.1 "));
      expect(statuses, `chunked=${chunked}`).toEqual(["HTTP/1.1 413 Payload Too Large"]);
      expect(text).not.toContain(h.victim.email);
    }
    await h.unchanged();
  });

  it("ASVS 5.0 15.2.2: a 10 MB body to PATCH /users/me (authenticated) -> 413, fast", async () => {
    const res = await h.client.json(
      "/users/me",
      { email: "a".repeat(10 * 1024 * 1024) },
      h.victim.sessions.db,
      "PATCH",
    );
    expect(res.status).toBe(413);
    expect(res.ms).toBeLessThan(FAST_MS * 2);
    await h.unchanged();
  });

  it.each([
    ["arrays 45,000 deep", `{"email":${"[".repeat(45_000)}${"]".repeat(45_000)}}`],
    ["objects 9,000 deep", `{"email":${'{"a":'.repeat(9000)}1${"}".repeat(9000)}}`],
    [
      "objects 9,000 deep under an unknown key",
      `{"x":${'{"a":'.repeat(9000)}1${"}".repeat(9000)},"email":"a@b.co","password":"p"}`,
    ],
    ["unterminated nesting", `{"email":${"[".repeat(90_000)}`],
  ])("ASVS 5.0 15.2.2: deeply nested JSON (%s) -> 4xx, fast", async (_name, body) => {
    for (const path of [
      "/auth/register",
      "/auth/forgot-password",
      "/auth/reset-password",
      "/auth/verify",
    ]) {
      const res = await h.client.send({
        path,
        headers: { "content-type": "application/json" },
        body,
      });
      expect4xx(res, `${path} ${_name}`);
      expect(res.ms).toBeLessThan(FAST_MS);
    }
    for (const backend of BACKENDS) {
      const res = await h.client.send({
        method: "PATCH",
        path: "/users/me",
        headers: { "content-type": "application/json", ...h.victim.sessions[backend.name] },
        body,
      });
      expect4xx(res, `PATCH via ${backend.name} ${_name}`);
      expect(res.ms).toBeLessThan(FAST_MS);
    }
    await h.unchanged();
  });

  it("ASVS 5.0 15.2.2: 10,000 unknown keys -> 4xx on create, an empty update on PATCH, fast", async () => {
    const body = `{${Array.from({ length: 10_000 }, (_, i) => `"k${i}":1`).join(",")}}`;
    for (const path of ["/auth/register", "/auth/forgot-password", "/auth/reset-password"]) {
      const res = await h.client.send({
        path,
        headers: { "content-type": "application/json" },
        body,
      });
      expect4xx(res, path);
      expect(res.ms).toBeLessThan(FAST_MS);
    }
    for (const backend of BACKENDS) {
      const res = await h.client.send({
        method: "PATCH",
        path: "/users/me",
        headers: { "content-type": "application/json", ...h.victim.sessions[backend.name] },
        body,
      });
      // Unknown fields are dropped: nothing left to change.
      expect(res.status, backend.name).toBe(200);
      expect(res.ms).toBeLessThan(FAST_MS);
    }
    await h.unchanged();
  });

  it("ASVS 5.0 15.3.7: duplicated form fields: the first one counts, on every login route", async () => {
    for (const backend of BACKENDS) {
      const res = await h.client.send({
        path: `/auth/${backend.name}/login`,
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `username=${encodeURIComponent(h.victim.email)}&password=wrong-password&password=${encodeURIComponent(PASSWORD)}`,
      });
      expect(res.status, backend.name).toBe(400);
    }
    await h.unchanged();
  });
}
