// The `tessera` CLI's configuration for this app: the database and Redis its environment
// names (DATABASE_URL, MONGODB_URL, else DATA_DIR's SQLite file; REDIS_URL) and its
// password rules. See src/admin.ts and docs/cli.md.
//
//   node packages/cli/dist/bin.js --config examples/koa-app/tessera.config.ts migrate
//   node packages/cli/dist/bin.js --config examples/koa-app/tessera.config.ts users create-superuser --email admin@example.com
import { tesseraCliConfig } from "./src/admin.js";

export default tesseraCliConfig;
