import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import type { Readable, Writable } from "node:stream";
import type { UserProtocol } from "@tessera/core";
import { normalizeEmail } from "@tessera/core";
import type { JwtKeyPairAlgorithm } from "@tessera/strategy-jwt";
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from "commander";
import type { TesseraCliConfig, TesseraCliConnection } from "./config.js";
import { connectFromEnvironment } from "./environment.js";
import {
  CliError,
  describeError,
  EXIT_CODES_HELP,
  ExitCode,
  type ExitCodeValue,
  isConnectionError,
} from "./exit-codes.js";
import {
  checkStageRetire,
  currentAlgorithm,
  generateJwk,
  KEY_ALGORITHMS,
  promoteJwks,
  readJwksFile,
  rotateJwks,
  stageJwks,
  writeJwksFile,
} from "./jwks.js";
import { loadConfigModule } from "./load-config.js";
import { readNewPassword, type SecretPrompt } from "./password.js";

/** Where `tessera` reads and writes: the process's streams, or a test's. */
export interface CliIo {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The no-echo terminal prompt. @default @inquirer/password */
  prompt?: SecretPrompt;
}

type User = UserProtocol<unknown>;
type Connection = TesseraCliConnection<User, unknown>;

interface Globals {
  config?: string;
  json?: boolean;
}

const ENVIRONMENT_HELP = `Connection (unless --config names a module):
  DATABASE_URL  postgres://user:pass@host:5432/app, or SQLite: sqlite:./data/app.sqlite,
                sqlite:///abs/path.sqlite or a bare file path
  MONGODB_URL   mongodb://host:27017/app (the path names the database)
  REDIS_URL     redis://host:6379: sessions revoke / users deactivate also end the user's
                Redis sessions and JWTs (revocation store)`;

/**
 * Runs `tessera` with `argv` (the arguments after the program name) and returns the exit
 * code; writes results to `io.stdout`, messages to `io.stderr`. Never calls `process.exit`.
 *
 * @example
 * process.exitCode = await runCli(process.argv.slice(2));
 */
export async function runCli(
  argv: readonly string[],
  io: Partial<CliIo> = {},
): Promise<ExitCodeValue> {
  const ctx: CliIo = {
    stdin: io.stdin ?? process.stdin,
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    env: io.env ?? process.env,
    cwd: io.cwd ?? process.cwd(),
    ...(io.prompt ? { prompt: io.prompt } : {}),
  };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return ExitCode.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version") {
        return ExitCode.OK;
      }
      // Commander has written its message (unknown option, missing argument…) already.
      return ExitCode.USAGE;
    }
    const { code, message } = describeError(error);
    const json = program.opts<Globals>().json === true;
    ctx.stderr.write(
      json ? `${JSON.stringify({ error: message, exitCode: code })}\n` : `tessera: ${message}\n`,
    );
    return code;
  }
}

/** The commander program of `tessera`, its actions writing to `io`. */
export function buildProgram(io: CliIo): Command {
  const program = new Command("tessera")
    .description(
      "Operate a Tessera app: schema, superusers, sessions and signing keys.\nMessages go to stderr, results to stdout (JSON with --json).",
    )
    .option(
      "-c, --config <file>",
      "a tessera.config.(js|mjs|ts) module exporting defineConfig({ connect })",
    )
    .option("--json", "print results as one JSON object on stdout")
    .version(VERSION, "-V, --version")
    .showSuggestionAfterError()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride()
    .addHelpText(
      "after",
      `\n${ENVIRONMENT_HELP}\n\n${EXIT_CODES_HELP}\n\nDocs: https://github.com/tessera-auth/tessera/blob/main/docs/cli.md`,
    );
  program.configureHelp({ showGlobalOptions: true });

  const out = (command: Command, text: string, json: unknown) => {
    const { json: asJson } = command.optsWithGlobals<Globals>();
    io.stdout.write(asJson ? `${JSON.stringify(json)}\n` : `${text}\n`);
  };
  const connect = (command: Command, name: string) =>
    openConnection(io, command.optsWithGlobals<Globals>(), name);

  // migrate
  program
    .command("migrate")
    .description(
      "Create what is missing of Tessera's schema: tables, columns and indexes on PostgreSQL and SQLite (MikroORM's schema diff, never dropping anything), indexes on MongoDB. Idempotent.",
    )
    .addArgument(
      new Argument("[action]", "up: apply; pending: list without applying")
        .choices(["up", "pending"])
        .default("up"),
    )
    .option("--pending", "same as the pending action")
    .addHelpText("after", `\n${EXIT_CODES_HELP}`)
    .action(async (action: string, options: { pending?: boolean }, command: Command) => {
      const pending = options.pending === true || action === "pending";
      await withConnection(
        connect(command, pending ? "migrate pending" : "migrate up"),
        async (conn) => {
          const schema = conn.schema;
          if (!schema)
            throw new CliError(
              ExitCode.FAILED,
              "this config has no schema: its connect() returns no `schema`",
            );
          const where = schema.description ? ` (${schema.description})` : "";
          if (pending) {
            const steps = await schema.pending();
            out(
              command,
              steps.length === 0
                ? `up to date${where}: nothing pending`
                : `${steps.length} pending${where}:\n${steps.map((s) => `  ${s}`).join("\n")}`,
              { pending: steps },
            );
            return;
          }
          const applied = await schema.up();
          out(
            command,
            applied.length === 0
              ? `up to date${where}: nothing to do`
              : `applied ${applied.length}${where}:\n${applied.map((s) => `  ${s}`).join("\n")}`,
            { applied },
          );
        },
      );
    });

  // users
  const users = program
    .command("users")
    .description("Create a superuser, deactivate a user")
    .addHelpText("after", `\n${EXIT_CODES_HELP}`);
  users
    .command("create-superuser")
    .description(
      "Create an active, verified superuser. The password is typed twice without echo on a terminal, or read from stdin when stdin is not a terminal (or with --password-stdin); the app's password policy applies. Refuses an email that has an account (exit 1).",
    )
    .option("--email <email>", "the superuser's email (asked for on a terminal when omitted)")
    .option("--password-stdin", "read the password from stdin, even on a terminal")
    .addHelpText(
      "after",
      `\nExample:\n  printf '%s' "$ADMIN_PASSWORD" | tessera users create-superuser --email admin@example.com\n\n${EXIT_CODES_HELP}`,
    )
    .action(async (options: { email?: string; passwordStdin?: boolean }, command: Command) => {
      const email = await emailOf(io, options.email);
      await withConnection(connect(command, "users create-superuser"), async (conn) => {
        const manager = conn.userManager;
        if (await manager.findByEmail(email)) {
          throw new CliError(ExitCode.FAILED, `a user with email ${email} already exists`);
        }
        const password = await readNewPassword({
          stdin: io.stdin,
          fromStdin: options.passwordStdin === true,
          output: io.stderr,
          ...(io.prompt ? { prompt: io.prompt } : {}),
        });
        const input = { email, password, isSuperuser: true, isVerified: true, isActive: true };
        let user: User;
        try {
          await manager.validatePassword(password, input);
          user = await manager.create(input, { safe: false });
        } catch (error) {
          throw userError(error, email);
        }
        out(command, `created superuser ${user.email} (id ${String(user.id)})`, {
          created: { id: String(user.id), email: user.email },
        });
      });
    });
  users
    .command("deactivate")
    .description("Set is_active=false on the user with EMAIL and end every session of theirs")
    .argument("<email>", "the user's email (any case)")
    .addHelpText("after", `\n${EXIT_CODES_HELP}`)
    .action(async (rawEmail: string, _options: unknown, command: Command) => {
      const email = checkEmail(rawEmail);
      await withConnection(connect(command, "users deactivate"), async (conn) => {
        const user = await findUser(conn, email);
        const wasActive = user.isActive;
        const updated = wasActive ? await conn.userManager.update({ isActive: false }, user) : user;
        const ended = await revokeEverywhere(conn, updated);
        out(
          command,
          `${wasActive ? "deactivated" : "already inactive:"} ${user.email}; sessions ended in ${ended.join(", ") || "no session store"}`,
          {
            deactivated: { id: String(user.id), email: user.email },
            wasActive,
            sessionsEndedIn: ended,
          },
        );
      });
    });

  // sessions
  const sessions = program
    .command("sessions")
    .description("Purge expired sessions, end a user's sessions")
    .addHelpText("after", `\n${EXIT_CODES_HELP}`);
  sessions
    .command("purge-expired")
    .description(
      "Delete expired sessions (database sessions and refresh-token sessions in the access-token table). Redis expires its own keys: nothing to do there. Run it from cron.",
    )
    .addHelpText(
      "after",
      `\nCron (hourly):\n  17 * * * *  cd /srv/app && DATABASE_URL=… npx tessera sessions purge-expired\n\n${EXIT_CODES_HELP}`,
    )
    .action(async (_options: unknown, command: Command) => {
      await withConnection(connect(command, "sessions purge-expired"), async (conn) => {
        const deleted: Record<string, number> = {};
        const lines: string[] = [];
        for (const [name, store] of Object.entries(conn.sessions ?? {})) {
          if (store.deleteExpired) {
            deleted[name] = await store.deleteExpired();
            lines.push(`${name}: deleted ${deleted[name]} expired sessions`);
          } else {
            lines.push(`${name}: ${store.expiresItself ?? "expires its sessions itself"}`);
          }
        }
        if (lines.length === 0) lines.push("no session store configured");
        out(command, lines.join("\n"), { deleted });
      });
    });
  sessions
    .command("revoke")
    .description(
      "End every session of a user: database and refresh-token sessions, and with REDIS_URL the Redis sessions and the user's JWTs (revocation store)",
    )
    .requiredOption("--user <email>", "the user's email")
    .addHelpText("after", `\n${EXIT_CODES_HELP}`)
    .action(async (options: { user: string }, command: Command) => {
      const email = checkEmail(options.user);
      await withConnection(connect(command, "sessions revoke"), async (conn) => {
        const user = await findUser(conn, email);
        const ended = await revokeEverywhere(conn, user);
        out(
          command,
          `sessions of ${user.email} ended in ${ended.join(", ") || "no session store"}`,
          {
            user: { id: String(user.id), email: user.email },
            sessionsEndedIn: ended,
          },
        );
      });
    });

  // keys
  const keys = program
    .command("keys")
    .description("Signing keys of access JWTs: private JWK Sets, the first key signs, all verify")
    .addHelpText("after", `\n${EXIT_CODES_HELP}`);
  const algOption = () =>
    new Option("--alg <alg>", "the new key's algorithm").choices([...KEY_ALGORITHMS]);
  keys
    .command("generate")
    .description(
      "Make a private JWK Set of one new signing key: to stdout, or to --out FILE (mode 0600)",
    )
    .addOption(algOption().default("ES256"))
    .option("-o, --out <file>", "write it to this file (mode 0600) instead of stdout")
    .option("--force", "replace an existing --out file")
    .addHelpText(
      "after",
      `\nExample:\n  tessera keys generate --alg EdDSA --out data/jwks.json\n\n${EXIT_CODES_HELP}`,
    )
    .action(
      (options: { alg: JwtKeyPairAlgorithm; out?: string; force?: boolean }, command: Command) => {
        const key = generateJwk(options.alg);
        const jwks = { keys: [key] };
        if (options.out === undefined) {
          io.stdout.write(`${JSON.stringify(jwks, null, 2)}\n`);
          return;
        }
        const file = resolvePath(io, options.out);
        writeJwksFile(file, jwks, options.force === true);
        out(command, `wrote ${file}: ${options.alg} key ${String(key.kid)}`, {
          file,
          kid: key.kid,
          alg: options.alg,
        });
      },
    );
  keys
    .command("rotate")
    .description(
      "Put a new signing key first in a private JWK Set file, keeping the old keys after it to verify the tokens they signed; restart the app (every instance) to use it. With --stage, add it after the signing key instead (it only verifies) for a rolling deploy, then keys promote",
    )
    .requiredOption(
      "-f, --file <file>",
      "the private JWK Set (the example app's DATA_DIR/jwks.json)",
    )
    .addOption(algOption())
    .option(
      "--stage",
      "add the new key after the signing key, marked staged: every instance verifies it, none signs with it until keys promote",
    )
    .option(
      "--retire <n>",
      "then keep only the first N keys, the new one included (drops the oldest)",
      positiveInteger,
    )
    .addHelpText(
      "after",
      `\nDefault algorithm: the current signing key's.\n\nRolling deploy (no instance refuses another's tokens):\n  tessera keys rotate --file jwks.json --stage   # then restart every instance\n  tessera keys promote --file jwks.json          # then restart every instance again\n\n${EXIT_CODES_HELP}`,
    )
    .action(
      (
        options: { file: string; alg?: JwtKeyPairAlgorithm; retire?: number; stage?: boolean },
        command: Command,
      ) => {
        const stage = options.stage === true;
        if (stage) checkStageRetire(options.retire);
        const file = resolvePath(io, options.file);
        const current = readJwksFile(file);
        const alg = options.alg ?? currentAlgorithm(current) ?? "ES256";
        const rotated = stage
          ? stageJwks(current, alg, options.retire)
          : rotateJwks(current, alg, options.retire);
        writeJwksFile(file, rotated.jwks, true);
        const retired = rotated.retired.length > 0 ? `; retired ${rotated.retired.join(", ")}` : "";
        const what = stage
          ? `staged ${alg} key ${rotated.added} (verifies; ${String(current.keys[0]?.kid)} still signs: restart every instance, then keys promote)`
          : `new ${alg} signing key ${rotated.added}`;
        out(command, `${file}: ${what}, ${rotated.jwks.keys.length} keys${retired}`, {
          file,
          added: rotated.added,
          alg,
          staged: stage,
          keys: rotated.jwks.keys.map((k) => k.kid),
          retired: rotated.retired,
        });
      },
    );
  keys
    .command("promote")
    .description(
      "Make a staged key (from keys rotate --stage) the signing key: move it first, the previous signing key right after it to verify the tokens it signed; restart every instance to use it",
    )
    .requiredOption(
      "-f, --file <file>",
      "the private JWK Set (the example app's DATA_DIR/jwks.json)",
    )
    .argument("[kid]", "the staged key to promote (default: the newest staged)")
    .addHelpText(
      "after",
      `\nPromote only once every instance has restarted with the staged key: each then verifies\nthe tokens it signs. No staged key, or KID not a staged key: exit 1, the file untouched.\n\n${EXIT_CODES_HELP}`,
    )
    .action((kid: string | undefined, options: { file: string }, command: Command) => {
      const file = resolvePath(io, options.file);
      const current = readJwksFile(file);
      const promoted = promoteJwks(current, kid);
      writeJwksFile(file, promoted.jwks, true);
      const alg = String(promoted.jwks.keys[0]?.alg ?? "");
      out(
        command,
        `${file}: ${alg} key ${promoted.promoted} now signs, ${promoted.previous} verifies; ${promoted.jwks.keys.length} keys`,
        {
          file,
          promoted: promoted.promoted,
          alg,
          previous: promoted.previous,
          keys: promoted.jwks.keys.map((k) => k.kid),
        },
      );
    });

  return program;
}

/** The package's version, for `--version` (package.json is beside src/ and dist/). */
const VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;

function positiveInteger(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value)) throw new InvalidArgumentError("a whole number, 1 or more");
  return Number(value);
}

function resolvePath(io: CliIo, path: string): string {
  return resolve(io.cwd, path);
}

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+$/;

function checkEmail(value: string): string {
  const email = value.trim();
  if (!EMAIL_SHAPE.test(email) || email.length > 320) {
    throw new CliError(ExitCode.USAGE, `not an email address: "${value}"`);
  }
  return normalizeEmail(email);
}

async function emailOf(io: CliIo, given: string | undefined): Promise<string> {
  if (given !== undefined) return checkEmail(given);
  if (!io.stdin.isTTY)
    throw new CliError(ExitCode.USAGE, "--email is required when stdin is not a terminal");
  const rl = createInterface({ input: io.stdin, output: io.stderr });
  try {
    return checkEmail(await rl.question("Email: "));
  } finally {
    rl.close();
  }
}

async function findUser(conn: Connection, email: string): Promise<User> {
  const user = await conn.userManager.findByEmail(email);
  if (!user) throw new CliError(ExitCode.FAILED, `no user with email ${email}`);
  return user;
}

/**
 * Ends the user's sessions in every store and returns their names. A store that fails does
 * not keep the others from being tried; the command then fails naming it, with the exit code
 * of its error (3 for a server that went away).
 */
async function revokeEverywhere(conn: Connection, user: User): Promise<string[]> {
  const ended: string[] = [];
  const failed: { name: string; error: unknown }[] = [];
  for (const [name, store] of Object.entries(conn.sessions ?? {})) {
    try {
      await store.revokeUser(user);
      ended.push(name);
    } catch (error) {
      failed.push({ name, error });
    }
  }
  const first = failed[0];
  if (first) {
    const { code, message } = describeError(first.error);
    const done = ended.length > 0 ? `; ended in ${ended.join(", ")}` : "";
    throw new CliError(
      code,
      `sessions of ${user.email} not ended in ${failed.map((f) => f.name).join(", ")} (${message})${done}`,
      { cause: first.error },
    );
  }
  return ended;
}

/** A user manager's refusal as a one-line CLI error. */
function userError(error: unknown, email: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "INVALID_PASSWORD") {
    const reason = (error as { reason?: string }).reason ?? (error as Error).message;
    return new CliError(ExitCode.FAILED, `password refused: ${reason}`);
  }
  if (code === "USER_ALREADY_EXISTS") {
    return new CliError(ExitCode.FAILED, `a user with email ${email} already exists`);
  }
  return error;
}

/**
 * Opens the connection of `--config`, else of the environment. An error that is not a
 * connection failure (a config module's own check, an unset variable) is a usage error.
 */
async function openConnection(io: CliIo, globals: Globals, command: string): Promise<Connection> {
  const config: TesseraCliConfig<User, unknown> | undefined = globals.config
    ? ((await loadConfigModule(globals.config, io.cwd)) as unknown as TesseraCliConfig<
        User,
        unknown
      >)
    : undefined;
  try {
    if (!config)
      return (await connectFromEnvironment({}, io.env, command)) as unknown as Connection;
    const connection = await config.connect({
      env: io.env,
      command,
      fromEnvironment: (options = {}) => connectFromEnvironment(options, io.env, command),
    });
    if (
      !connection ||
      typeof connection.userManager !== "object" ||
      typeof connection.close !== "function"
    ) {
      throw new CliError(
        ExitCode.USAGE,
        `--config ${globals.config}: connect() must return { userManager, close, … }`,
      );
    }
    return connection;
  } catch (error) {
    if (error instanceof CliError || isConnectionError(error)) throw error;
    throw new CliError(
      ExitCode.USAGE,
      `${globals.config ? `--config ${globals.config}` : "connection"}: ${(error as Error).message ?? String(error)}`,
      { cause: error },
    );
  }
}

async function withConnection(
  opening: Promise<Connection>,
  fn: (conn: Connection) => Promise<void>,
): Promise<void> {
  const conn = await opening;
  try {
    await fn(conn);
  } finally {
    await conn.close().catch(() => undefined);
  }
}
