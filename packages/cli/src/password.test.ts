import { PassThrough, Readable } from "node:stream";
import { describe, expect, it, vi } from "vitest";
import { CliError } from "./exit-codes.js";
import { readNewPassword, type SecretPrompt } from "./password.js";

const pipe = (text: string) => Object.assign(Readable.from([Buffer.from(text)]), { isTTY: false });
/** A terminal whose input must not be read: the prompt owns it. */
const terminal = () =>
  Object.assign(
    new Readable({
      read() {
        throw new Error("stdin read on a terminal");
      },
    }),
    { isTTY: true },
  );

describe("readNewPassword", () => {
  it("reads a pipe whole, less one trailing newline", async () => {
    expect(await readNewPassword({ stdin: pipe("s3cret pass\n"), fromStdin: false })).toBe(
      "s3cret pass",
    );
    expect(await readNewPassword({ stdin: pipe("a b\r\n"), fromStdin: false })).toBe("a b");
    expect(await readNewPassword({ stdin: pipe(" spaced \n\n"), fromStdin: false })).toBe(
      " spaced \n",
    );
  });

  it("refuses an empty or oversized stdin", async () => {
    await expect(readNewPassword({ stdin: pipe("\n"), fromStdin: false })).rejects.toThrow(
      /no password on stdin/,
    );
    await expect(
      readNewPassword({ stdin: pipe("x".repeat(70_000)), fromStdin: false }),
    ).rejects.toThrow(/longer than 64 KiB/);
  });

  it("on a terminal asks twice through the prompt, without echo (mask: false), and never reads stdin itself", async () => {
    const prompt = vi.fn<SecretPrompt>(async () => "typed password");
    expect(await readNewPassword({ stdin: terminal(), fromStdin: false, prompt })).toBe(
      "typed password",
    );
    expect(prompt).toHaveBeenCalledTimes(2);
    expect(prompt.mock.calls.map(([config]) => config)).toEqual([
      { message: "Password:", mask: false },
      { message: "Password (again):", mask: false },
    ]);
  });

  it("on a terminal refuses two different entries, and a cancelled prompt", async () => {
    const answers = ["one password", "another one"];
    const prompt: SecretPrompt = async () => answers.shift() ?? "";
    await expect(readNewPassword({ stdin: terminal(), fromStdin: false, prompt })).rejects.toThrow(
      /do not match/,
    );
    const cancelled: SecretPrompt = async () => {
      throw Object.assign(new Error("User force closed the prompt"), { name: "ExitPromptError" });
    };
    const error = await readNewPassword({
      stdin: terminal(),
      fromStdin: false,
      prompt: cancelled,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toBe("cancelled");
  });

  it("--password-stdin reads stdin even when it is a terminal", async () => {
    const prompt = vi.fn<SecretPrompt>();
    const stdin = Object.assign(Readable.from([Buffer.from("from a pipe\n")]), { isTTY: true });
    expect(await readNewPassword({ stdin, fromStdin: true, prompt })).toBe("from a pipe");
    expect(prompt).not.toHaveBeenCalled();
  });

  it("uses @inquirer/password on the given terminal, drawn on stderr, when no prompt is given", async () => {
    vi.resetModules();
    const calls: unknown[] = [];
    const contexts: { input: unknown; output: unknown }[] = [];
    vi.doMock("@inquirer/password", () => ({
      default: async (config: unknown, context: { input: unknown; output: unknown }) => {
        calls.push(config);
        contexts.push(context);
        return "from inquirer";
      },
    }));
    const { readNewPassword: read } = await import("./password.js");
    const stdin = terminal();
    const output = new PassThrough();
    expect(await read({ stdin, fromStdin: false, output })).toBe("from inquirer");
    // On the given terminal, drawn on stderr (not stdout, which carries results).
    expect(contexts).toEqual([
      { input: stdin, output },
      { input: stdin, output },
    ]);
    expect(calls).toEqual([
      { message: "Password:", mask: false },
      { message: "Password (again):", mask: false },
    ]);
    vi.doUnmock("@inquirer/password");
  });
});
