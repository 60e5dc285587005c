/**
 * `@tessera/cli`: the `tessera` command (schema, superusers, deactivation, session purge
 * and revocation, JWK signing keys) and what a `tessera.config.*` module needs to hand it
 * an app's own adapters. See docs/cli.md.
 *
 * Exports are listed by name, so nothing becomes public by being exported from a module.
 */
export { mikroOrmSchema, strategySessions } from "./adapters.js";
export { type CliIo, runCli } from "./cli.js";
export {
  type CliConnectContext,
  type CliSchema,
  type CliSessionStore,
  defineConfig,
  type EnvironmentConnectionOptions,
  type TesseraCliConfig,
  type TesseraCliConnection,
} from "./config.js";
export { type DatabaseTarget, parseDatabaseTarget } from "./database-url.js";
export { CliError, ExitCode, type ExitCodeValue } from "./exit-codes.js";
export { generateJwk, type PrivateJwks, promoteJwks, rotateJwks, stageJwks } from "./jwks.js";
export type { SecretPrompt } from "./password.js";
