// Opening the database: embedded PostgreSQL when DATABASE_URL is unset, then the ORM, then
// pending migrations. The one place that turns a Config into a connected MikroORM.
import { join } from 'node:path';
import { MikroORM } from '@mikro-orm/postgresql';
import { ormConfig } from '../../mikro-orm.config.ts';
import type { Logger } from '../common/logger.ts';
import type { Config } from '../config.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres.ts';

export type Database = {
  orm: MikroORM;
  url: string;
  /** Closes the ORM, then stops embedded PostgreSQL if we started it. */
  close(): Promise<void>;
};

export const EMBEDDED_DATABASE = 'forgeline';

export async function openDatabase(
  config: Config,
  logger: Logger,
  options: { migrate?: boolean } = {},
): Promise<Database> {
  let embedded: EmbeddedPostgres | undefined;
  let url = config.databaseUrl;
  if (!url) {
    const dir = join(config.dataDir, 'pg');
    logger.info({ dir }, 'starting embedded PostgreSQL');
    embedded = await startEmbeddedPostgres({ dir, onLog: (line) => logger.debug({ pg: line }) });
    await embedded.createDatabase(EMBEDDED_DATABASE, { ifMissing: true });
    url = embedded.url(EMBEDDED_DATABASE);
  }
  try {
    const orm = await createOrm(url, config, logger);
    if (options.migrate !== false) await migrateToLatest(orm, logger);
    return {
      orm,
      url,
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
