import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createMailer, resetMessage, verifyMessage } from "./mail.js";

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
});
