import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createMailer, resetMessage, theftMessage, verifyMessage } from "./mail.js";

const quiet = { info() {}, warn() {}, error() {} };
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Quoted-printable bodies wrap long lines with `=` and escape `=` as `=3D`. */
const decodeQp = (s: string) =>
  s
    .replace(/=\r?\n/g, "")
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));

describe("mail", () => {
  it("links to APP_URL's /verify and /reset-password with the token", () => {
    expect(verifyMessage("https://app.example.com", "a@example.com", "t.o-k_en").text).toContain(
      "https://app.example.com/verify?token=t.o-k_en",
    );
    expect(resetMessage("https://app.example.com", "a@example.com", "tok").html).toContain(
      'href="https://app.example.com/reset-password?token=tok"',
    );
  });

  it("tells the user of a reused refresh token: that session was ended, from which device (ASVS 5.0 6.3.5)", () => {
    const session = {
      createdAt: new Date("2026-12-01T08:30:00Z"),
      device: { ipAddress: "203.0.113.7", userAgent: 'Evil/1.0 <script>alert("x")</script>' },
    };
    const mail = theftMessage("https://app.example.com", "ada@example.com", session);
    expect(mail.to).toBe("ada@example.com");
    expect(mail.subject).toBe("Someone used an old sign-in token of yours");
    expect(mail.text).toContain(
      "someone used an old sign-in token of yours; that session was ended",
    );
    expect(mail.text).toContain("From the address: 203.0.113.7");
    expect(mail.text).toContain('With the browser or app: Evil/1.0 <script>alert("x")</script>');
    expect(mail.text).toContain("Signed in: Tue, 01 Dec 2026 08:30:00 GMT");
    expect(mail.text).toContain("https://app.example.com");
    // The user agent is the client's choice: escaped in the HTML part.
    expect(mail.html).toContain("Evil/1.0 &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(mail.html).not.toContain("<script>");
    const unknown = theftMessage("http://localhost:8000", "a@example.com", {
      createdAt: new Date(0),
      device: { ipAddress: null, userAgent: null },
    });
    expect(unknown.text).toContain("From the address: unknown");
  });

  it("writes each message to the outbox as an .eml file when there is no SMTP_URL", async () => {
    dir = mkdtempSync(join(tmpdir(), "koa-app-mail-"));
    const outboxDir = join(dir, "outbox");
    const mailer = createMailer(
      { smtpUrl: undefined, outboxDir, from: "App <app@localhost>" },
      quiet,
    );
    await mailer.send(verifyMessage("http://localhost:8000", "ada@example.com", "x".repeat(200)));
    mailer.close();
    const files = readdirSync(outboxDir);
    expect(files).toHaveLength(1);
    const eml = readFileSync(join(outboxDir, files[0] ?? ""), "utf8");
    expect(eml).toMatch(/^From: App <app@localhost>\r\nTo: ada@example.com\r\n/);
    expect(eml).toContain("Subject: Verify your email address");
    expect(decodeQp(eml)).toContain(`http://localhost:8000/verify?token=${"x".repeat(200)}`);
  });

  it("sends over SMTP when SMTP_URL is set", async () => {
    const received: string[] = [];
    // Just enough of an SMTP server (RFC 5321) to accept one message.
    const server = createServer((socket) => {
      let data = false;
      let buffer = "";
      socket.write("220 test ESMTP\r\n");
      socket.on("data", (chunk) => {
        buffer += chunk.toString();
        let end = buffer.indexOf(data ? "\r\n.\r\n" : "\r\n");
        while (end >= 0) {
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end + (data ? 5 : 2));
          if (data) {
            received.push(line);
            data = false;
            socket.write("250 queued\r\n");
          } else if (/^DATA/i.test(line)) {
            data = true;
            socket.write("354 go on\r\n");
          } else if (/^QUIT/i.test(line)) {
            socket.end("221 bye\r\n");
          } else {
            socket.write("250 ok\r\n");
          }
          end = buffer.indexOf(data ? "\r\n.\r\n" : "\r\n");
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const mailer = createMailer(
      { smtpUrl: `smtp://127.0.0.1:${port}`, outboxDir: "/nonexistent", from: "a@localhost" },
      quiet,
    );
    await mailer.send(resetMessage("https://app.example.com", "ada@example.com", "tok"));
    mailer.close();
    server.close();
    expect(received).toHaveLength(1);
    expect(received[0]).toContain("To: ada@example.com");
    expect(decodeQp(received[0] ?? "")).toContain(
      "https://app.example.com/reset-password?token=tok",
    );
  });
});
