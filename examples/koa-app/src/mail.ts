import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTransport } from "nodemailer";
import type { Config } from "./config.js";
import type { Logger } from "./logger.js";

/** A mail to send. */
export interface Message {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Sends mail: over SMTP, or into the outbox directory as .eml files. */
export interface Mailer {
  send(message: Message): Promise<void>;
  close(): void;
}

/**
 * Over SMTP when `SMTP_URL` is set; otherwise each message is written, complete with its
 * headers, as an .eml file in the outbox (open it in any mail client, or read it).
 */
export function createMailer(mail: Config["mail"], log: Logger): Mailer {
  if (mail.smtpUrl) {
    const smtp = createTransport(mail.smtpUrl, { from: mail.from });
    return {
      async send(message) {
        await smtp.sendMail(message);
      },
      close: () => smtp.close(),
    };
  }
  // The stream transport builds the raw RFC 5322 message instead of sending it.
  const outbox = createTransport(
    { streamTransport: true, buffer: true, newline: "windows" },
    { from: mail.from },
  );
  return {
    async send(message) {
      const info = await outbox.sendMail({ ...message, textEncoding: "quoted-printable" });
      mkdirSync(mail.outboxDir, { recursive: true });
      const stamp = new Date().toISOString().replace(/[:.]/g, "-");
      const file = join(mail.outboxDir, `${stamp}-${randomBytes(3).toString("hex")}.eml`);
      writeFileSync(file, info.message as Buffer);
      log.info(`mail: "${message.subject}" to ${message.to} -> ${file}`);
    },
    close: () => outbox.close(),
  };
}

/** The mail of `POST /auth/request-verify-token`: a link to the verify page. */
export function verifyMessage(appUrl: string, to: string, token: string): Message {
  const link = `${appUrl}/verify?token=${encodeURIComponent(token)}`;
  return {
    to,
    subject: "Verify your email address",
    text: `Hello,\n\nconfirm your email address by opening this link:\n\n${link}\n\nIt is valid for one hour. If you did not sign up at ${appUrl}, ignore this mail.\n`,
    html: page(
      "Confirm your email address by opening this link:",
      link,
      "Verify my email",
      `It is valid for one hour. If you did not sign up at ${escapeHtml(appUrl)}, ignore this mail.`,
    ),
  };
}

/** The mail of `POST /auth/forgot-password`: a link to the reset page. */
export function resetMessage(appUrl: string, to: string, token: string): Message {
  const link = `${appUrl}/reset-password?token=${encodeURIComponent(token)}`;
  return {
    to,
    subject: "Reset your password",
    text: `Hello,\n\nset a new password by opening this link:\n\n${link}\n\nIt is valid for one hour and works once. If you did not ask for it, ignore this mail: your password stays as it is.\n`,
    html: page(
      "Set a new password by opening this link:",
      link,
      "Choose a new password",
      "It is valid for one hour and works once. If you did not ask for it, ignore this mail: your password stays as it is.",
    ),
  };
}

/** The session a reused refresh token belonged to, as the theft mail describes it. */
export interface EndedSession {
  createdAt: Date;
  device: { ipAddress: string | null; userAgent: string | null };
}

/**
 * The mail of `onTokenTheftDetected`: a refresh token was used again after it had been
 * rotated, so it was copied, and the session it belonged to has been ended. Names the
 * session's device so the user recognises (or not) the login.
 */
export function theftMessage(appUrl: string, to: string, session: EndedSession): Message {
  const facts = [
    `Signed in: ${session.createdAt.toUTCString()}`,
    `From the address: ${session.device.ipAddress ?? "unknown"}`,
    `With the browser or app: ${session.device.userAgent ?? "unknown"}`,
  ];
  const advice = `If you do not recognise this sign-in, change your password at ${appUrl} and log out everywhere.`;
  return {
    to,
    subject: "Someone used an old sign-in token of yours",
    text: `Hello,\n\nsomeone used an old sign-in token of yours; that session was ended, and whoever used it has to sign in again. The session was:\n\n${facts.map((f) => `  ${f}`).join("\n")}\n\nIf that was you, on this device, simply sign in again. ${advice}\n`,
    html:
      "<p>Hello,</p><p>Someone used an old sign-in token of yours; that session was ended, and whoever used it has to sign in again. The session was:</p>" +
      `<ul>${facts.map((f) => `<li>${escapeHtml(f)}</li>`).join("")}</ul>` +
      `<p>If that was you, on this device, simply sign in again. ${escapeHtml(advice)}</p>`,
  };
}

function page(intro: string, link: string, label: string, outro: string): string {
  return `<p>Hello,</p><p>${intro}</p><p><a href="${escapeHtml(link)}">${label}</a></p><p>${outro}</p>`;
}

function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );
}
