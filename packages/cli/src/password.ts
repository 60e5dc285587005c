import type { Readable, Writable } from "node:stream";
import { CliError, ExitCode } from "./exit-codes.js";

/** Asks for a secret on the terminal without echoing it (`@inquirer/password`'s signature). */
export type SecretPrompt = (config: { message: string; mask?: boolean }) => Promise<string>;

/** Where {@link readNewPassword} reads from. */
export interface PasswordSource {
  /** The process's stdin. */
  stdin: Readable & { isTTY?: boolean };
  /** `--password-stdin`: read stdin even when it is a terminal. */
  fromStdin: boolean;
  /** Where the terminal prompt is drawn: stderr, so that stdout carries results only. */
  output?: Writable;
  /** The terminal prompt. @default @inquirer/password, without echo, on `stdin` and `output` */
  prompt?: SecretPrompt;
}

/** A password longer than this on stdin is refused before it is even read whole. */
const MAX_STDIN_BYTES = 64 * 1024;

/**
 * A new password: typed twice on a terminal without echo, or read from stdin when stdin is
 * not a terminal (a pipe, a file, a secret manager) or `fromStdin` is set. From stdin the
 * whole input is the password, less one trailing newline (`\n` or `\r\n`).
 */
export async function readNewPassword(source: PasswordSource): Promise<string> {
  if (source.fromStdin || !source.stdin.isTTY) return readStdinPassword(source.stdin);
  const prompt = source.prompt ?? (await inquirerPrompt(source));
  let password: string;
  try {
    password = await prompt({ message: "Password:", mask: false });
    const again = await prompt({ message: "Password (again):", mask: false });
    if (again !== password) throw new CliError(ExitCode.FAILED, "the passwords do not match");
  } catch (error) {
    // Ctrl-C or Ctrl-D in the prompt.
    if (error instanceof Error && error.name === "ExitPromptError") {
      throw new CliError(ExitCode.FAILED, "cancelled");
    }
    throw error;
  }
  return password;
}

/** All of `stdin`, less one trailing newline. */
export async function readStdinPassword(stdin: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > MAX_STDIN_BYTES) {
      throw new CliError(ExitCode.FAILED, "the password on stdin is longer than 64 KiB");
    }
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
  if (text === "") throw new CliError(ExitCode.FAILED, "no password on stdin");
  return text;
}

/** `@inquirer/password` on the source's terminal, drawn on its output (stderr by default). */
async function inquirerPrompt(source: PasswordSource): Promise<SecretPrompt> {
  const { default: password } = await import("@inquirer/password");
  return (config) =>
    password(config, { input: source.stdin, output: source.output ?? process.stderr });
}
