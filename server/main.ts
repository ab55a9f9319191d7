// Process entry: config → database (embedded PostgreSQL unless DATABASE_URL; this process restarts
// it if it dies, and exits 1 if it stays down) → migrations → seed on first run → client build if
// missing → runtime (queue, events, workers unless RUN_WORKER=false) → HTTP app → listen.
// SIGINT/SIGTERM drain in-flight requests, then in-flight jobs, then close the ORM, then stop
// PostgreSQL.
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { CLIENT_DIST, createApp, ROOT_DIR } from './app.ts';
import { createLogger } from './common/logger.ts';
import { ConfigError, loadConfig } from './config.ts';
import { backupPlanFor } from './db/backup.ts';
import { openDatabase } from './db/orm.ts';
import { seedDatabase } from './db/seed.ts';
import { startRuntime } from './runtime.ts';

const SHUTDOWN_GRACE_MS = 10_000;
const dev = process.argv.includes('--dev');

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}
const logger = createLogger(config.logLevel);

const db = await openDatabase(config, logger, {
  attach: true,
  // The embedded PostgreSQL stayed down through every restart: leave it to a process supervisor.
  onDatabaseLost: () => process.exit(1),
}).catch((error: unknown) => {
  logger.fatal({ err: error }, 'could not open the database');
  process.exit(1);
});

const { admin } = await seedDatabase(db.orm, logger);
if (admin) {
  console.log(`\n  Demo admin account (shown once): ${admin.email} / ${admin.password}\n`);
}

// `--no-client-build`: an API process that need not build the client first (the tests; a
// deployment serving dist/client from elsewhere).
if (!dev && !process.argv.includes('--no-client-build') && !existsSync(join(CLIENT_DIST, 'index.html'))) {
  logger.info('building the client (first start)');
  const { build } = await import('vite');
  await build({ configFile: join(ROOT_DIR, 'client', 'vite.config.ts'), logLevel: 'warn' });
}

const runtime = await startRuntime({
  orm: db.orm,
  databaseUrl: db.url,
  config,
  logger,
  backupPlan: backupPlanFor(config, db.url),
});
if (config.runWorker) await runtime.startWorkers();

const app = await createApp({ orm: db.orm, config, logger, runtime, dev });
const server: Server = app.listen(config.port, config.host, () => {
  console.log(`\n  Forgeline is running at ${config.publicUrl}\n`);
});
server.keepAliveTimeout = 65_000;

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down: draining requests');
  const forced = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
  await new Promise<void>((done) => {
    server.close(() => done());
    server.closeIdleConnections();
  });
  clearTimeout(forced);
  logger.info('finishing in-flight jobs');
  await runtime.stop();
  await db.close();
  logger.info('stopped');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
