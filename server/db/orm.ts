// Opening the database: embedded PostgreSQL when DATABASE_URL is unset (archiving its WAL for
// point-in-time restore, supervised when the caller asks), then the ORM (with read replicas when
// DATABASE_REPLICA_URLS is set), then pending migrations. The one place that turns a Config into a
// connected MikroORM.
import { join, resolve } from 'node:path';
import { MikroORM } from '@mikro-orm/postgresql';
import { ormConfig } from '../../mikro-orm.config.ts';
import type { Logger } from '../common/logger.ts';
import type { Config } from '../config.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres.ts';

export type Database = {
  orm: MikroORM;
  url: string;
  /** The embedded server (null with DATABASE_URL); `attached` when another process runs it. */
  embedded: EmbeddedPostgres | null;
  /** Closes the ORM, then stops embedded PostgreSQL if we started it. */
  close(): Promise<void>;
};

export const EMBEDDED_DATABASE = 'forgeline';

/** The WAL archive of the embedded server (its archive_command copies segments here). */
export const archiveDirFor = (config: Config) => join(resolve(config.backup.dir), 'wal');

export type OpenDatabaseOptions = {
  migrate?: boolean;
  /**
   * When another process already runs the embedded server on DATA_DIR, use it (the db:* commands,
   * `npm run worker` and `npm start` beside `npm run cluster`); otherwise that is refused.
   */
  attach?: boolean;
  /**
   * Supervise the embedded server this process starts: restart it when it dies (EMBEDDED_PG_RESTARTS
   * attempts in a row), and call this when it stays down (the caller exits non-zero).
   */
  onDatabaseLost?: (error: Error) => void;
  /** Extra server settings for the embedded PostgreSQL this process starts (`npm run cluster`). */
  serverSettings?: Record<string, string | number>;
};

export async function openDatabase(
  config: Config,
  logger: Logger,
  options: OpenDatabaseOptions = {},
): Promise<Database> {
  let embedded: EmbeddedPostgres | null = null;
  let url = config.databaseUrl;
  if (!url) {
    const dir = join(config.dataDir, 'pg');
    logger.info({ dir }, 'starting embedded PostgreSQL');
    const onDatabaseLost = options.onDatabaseLost;
    embedded = await startEmbeddedPostgres({
      dir,
      archiveDir: archiveDirFor(config),
      attach: options.attach,
      settings: options.serverSettings,
      onLog: (line) => logger.debug({ pg: line }),
      supervise: onDatabaseLost && {
        maxRestarts: config.embeddedRestarts,
        onDown: (reason) => logger.error({ reason }, 'embedded PostgreSQL stopped; restarting it'),
        onUp: (attempts) => logger.warn({ attempts }, 'embedded PostgreSQL is back'),
        onGiveUp: (error) => {
          logger.fatal({ err: error, attempts: config.embeddedRestarts }, 'embedded PostgreSQL stays down');
          onDatabaseLost(error);
        },
      },
    });
    if (embedded.attached)
      logger.info({ port: embedded.port }, 'using the embedded PostgreSQL of another process');
    await embedded.createDatabase(EMBEDDED_DATABASE, { ifMissing: true });
    url = embedded.url(EMBEDDED_DATABASE);
  }
  try {
    const orm = await createOrm(url, config, logger);
    if (options.migrate !== false) await migrateToLatest(orm, logger);
    return {
      orm,
      url,
      embedded,
      async close() {
        await orm.close(true);
        await embedded?.stop();
      },
    };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}

export function createOrm(url: string, config: Config, logger: Logger): Promise<MikroORM> {
  return MikroORM.init(
    ormConfig({
      clientUrl: url,
      replicaUrls: config.databaseReplicaUrls,
      ssl: config.databaseSsl,
      pool: config.pool,
      instrumentation: {
        slowQueryMs: config.slowQueryMs,
        onSlowQuery: (entry) => logger.warn(entry, 'slow query'),
        poolWaitMs: config.poolWaitMs,
        onPoolWait: (entry) => logger.warn(entry, 'waited for a database connection'),
      },
    }),
  );
}

export async function migrateToLatest(orm: MikroORM, logger?: Logger): Promise<void> {
  const applied = await orm.migrator.up();
  if (applied.length) logger?.info({ migrations: applied.map((m) => m.name) }, 'applied migrations');
}

/** True when every migration in migrations/ has been applied (used by /ready). */
export async function migrationsApplied(orm: MikroORM): Promise<boolean> {
  return (await orm.migrator.getPending()).length === 0;
}
