// `npm run worker`: the job worker alone (generations, dead letters, retention, backups), for
// running workers apart from API processes (set RUN_WORKER=false on those). Without DATABASE_URL it
// uses the embedded PostgreSQL a server on this machine already runs (or starts its own).
// SIGINT/SIGTERM finish in-flight jobs before exiting.
import { createLogger } from './common/logger.ts';
import { ConfigError, loadConfig } from './config.ts';
import { backupPlanFor } from './db/backup.ts';
import { openDatabase } from './db/orm.ts';
import { startRuntime } from './runtime.ts';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}
const logger = createLogger(config.logLevel);
const db = await openDatabase(config, logger, { attach: true, onDatabaseLost: () => process.exit(1) });
const runtime = await startRuntime({
  orm: db.orm,
  databaseUrl: db.url,
  config: { ...config, runWorker: true },
  logger,
  backupPlan: backupPlanFor(config, db.url),
  superviseIntervalSeconds: Number(process.env.WORKER_SUPERVISE_SECONDS) || undefined,
});
await runtime.startWorkers();
logger.info('worker started');
console.log('worker ready');

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'worker stopping: finishing in-flight jobs');
  await runtime.stop();
  await db.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
// Started by `npm run cluster` (over an IPC channel): a worker does not outlive its cluster.
if (process.channel) process.once('disconnect', () => void shutdown('the cluster process is gone'));
