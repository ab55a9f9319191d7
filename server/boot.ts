// What the server (main.ts) and the worker (worker.ts) both do to start and to stop: config (a bad
// value prints its message and exits 1) → logger → database (embedded PostgreSQL unless
// DATABASE_URL; restarted by this process if it dies, exit 1 if it stays down) → the caller's own
// preparation → runtime (queue, events, storage, providers) → job workers when asked. SIGINT and
// SIGTERM then stop in order: the caller's drain (in-flight requests), in-flight jobs, the ORM,
// PostgreSQL.
import { createLogger, type Logger } from './common/logger.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { backupPlanFor } from './db/backup.ts';
import { type Database, openDatabase } from './db/orm.ts';
import { type Runtime, type RuntimeOptions, startRuntime } from './runtime.ts';

export type Booted = {
  config: Config;
  logger: Logger;
  db: Database;
  runtime: Runtime;
  /** Runs before jobs are finished and the database closed (an HTTP server's drain). */
  onShutdown(drain: () => Promise<void>): void;
  /** Stops everything, as a signal would, and exits 0. */
  shutdown(reason: string): Promise<void>;
};

export type BootOptions = {
  /** Adjusts the parsed configuration (the worker forces RUN_WORKER on). */
  config?: (config: Config) => Config;
  /** Runs once the database is open, before the runtime starts (seed, client build). */
  prepare?: (booted: { config: Config; logger: Logger; db: Database }) => Promise<void>;
  /** Extra runtime options. */
  runtime?: Partial<RuntimeOptions>;
  /** Whether this process runs the job handlers (default: RUN_WORKER). */
  startWorkers?: (config: Config) => boolean;
  /** Log lines of shutdown, per process kind. */
  messages?: { stopping: string; finishingJobs?: string; stopped?: string };
};

export async function boot(options: BootOptions = {}): Promise<Booted> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(1);
  }
  if (options.config) config = options.config(config);
  const logger = createLogger(config.logLevel);

  const db = await openDatabase(config, logger, {
    attach: true,
    // The embedded PostgreSQL stayed down through every restart: leave it to a process supervisor.
    onDatabaseLost: () => process.exit(1),
  }).catch((error: unknown) => {
    logger.fatal({ err: error }, 'could not open the database');
    process.exit(1);
  });

  await options.prepare?.({ config, logger, db });

  const runtime = await startRuntime({
    orm: db.orm,
    databaseUrl: db.url,
    config,
    logger,
    backupPlan: backupPlanFor(config, db.url),
    ...options.runtime,
  });
  if ((options.startWorkers ?? ((c: Config) => c.runWorker))(config)) await runtime.startWorkers();

  const messages = options.messages ?? { stopping: 'shutting down' };
  let drain: (() => Promise<void>) | null = null;
  let stopping = false;
  async function shutdown(reason: string) {
    if (stopping) return;
    stopping = true;
    logger.info({ signal: reason }, messages.stopping);
    await drain?.();
    if (messages.finishingJobs) logger.info(messages.finishingJobs);
    await runtime.stop();
    await db.close();
    if (messages.stopped) logger.info(messages.stopped);
    process.exit(0);
  }
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  return {
    config,
    logger,
    db,
    runtime,
    onShutdown(work) {
      drain = work;
    },
    shutdown,
  };
}
