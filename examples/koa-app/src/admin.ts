import { normalizeEmail, UserAlreadyExistsError, type UserManager } from "@tessera/core";
import { loadConfig } from "./config.js";
import type { User } from "./db/index.js";
import type { Logger } from "./logger.js";

/**
 * Creates the superuser of `TESSERA_ADMIN_EMAIL` / `TESSERA_ADMIN_PASSWORD` unless the
 * email already has an account: safe to run at every start. Optional: without them, make
 * the superuser with `tessera users create-superuser` (see {@link tesseraCliConfig}). An existing account is left
 * as it is (password and flags): promoting whoever registered that email first would
 * hand them the admin rights.
 */
export async function ensureAdmin(
  userManager: UserManager<User, string>,
  admin: { email: string; password: string },
  log: Logger,
): Promise<"created" | "exists"> {
  const existing = await userManager.userDb.getByEmail(normalizeEmail(admin.email));
  if (existing) {
    if (!existing.isSuperuser) {
      log.warn(`admin: ${admin.email} exists but is not a superuser; left unchanged`);
    }
    return "exists";
  }
  try {
    await userManager.create(
      { email: admin.email, password: admin.password, isSuperuser: true, isVerified: true },
      { safe: false },
    );
  } catch (error) {
    // Another instance starting at the same moment created it first.
    if (error instanceof UserAlreadyExistsError) return "exists";
    throw error;
  }
  log.info(`admin: created superuser ${admin.email}`);
  return "created";
}

/**
 * The app's password rules, the one definition `src/auth.ts` gives its user manager: the
 * 10,000 most common passwords are refused. `tessera users create-superuser` applies them too.
 */
export const PASSWORD_POLICY = { rejectCommonPasswords: true } as const;

/** What the `tessera` CLI hands a config's `connect` (`CliConnectContext` of `@tessera/cli`). */
export interface TesseraCliContext<Connection> {
  env: NodeJS.ProcessEnv;
  fromEnvironment(options: {
    databaseUrl?: string | undefined;
    mongodbUrl?: string | undefined;
    redisUrl?: string | undefined;
    passwordPolicy?: typeof PASSWORD_POLICY;
  }): Promise<Connection>;
}

/**
 * The `tessera` CLI's view of this app (`tessera.config.ts` exports it): the database and
 * Redis the app's own environment variables name, read by the app's `loadConfig` (so
 * `DATA_DIR`'s SQLite file when neither `DATABASE_URL` nor `MONGODB_URL` is set), the same
 * tables and collections, and the app's password rules. The superuser then comes from
 * `tessera users create-superuser` instead of `TESSERA_ADMIN_*` (which still work).
 *
 * @example
 * // from the repository root, after `pnpm build`:
 * // node packages/cli/dist/bin.js --config examples/koa-app/tessera.config.ts users create-superuser --email admin@example.com
 */
export const tesseraCliConfig = {
  connect<Connection>({
    env,
    fromEnvironment,
  }: TesseraCliContext<Connection>): Promise<Connection> {
    const { database, redisUrl } = loadConfig(env);
    return fromEnvironment({
      databaseUrl:
        database.kind === "sqlite"
          ? `sqlite:${database.file}`
          : database.kind === "postgresql"
            ? database.url
            : undefined,
      mongodbUrl: database.kind === "mongodb" ? database.url : undefined,
      redisUrl,
      passwordPolicy: PASSWORD_POLICY,
    });
  },
};
