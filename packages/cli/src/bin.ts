#!/usr/bin/env node
// The `tessera` command. Everything is in cli.ts; this only hands it the process.
import { runCli } from "./cli.js";

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
// Every connection is closed by now; should a driver still hold a handle open, do not
// hang a cron job or a deploy script on it (an unref'd timer fires only in that case).
setTimeout(() => process.exit(code), 2000).unref();
