// The one MikroORM configuration, used by the server, the worker, the db:* commands and the tests.
// `ormConfig()` takes the connection details; the default export reads them from the environment.
import { fileURLToPath } from 'node:url';
import type { LoggerOptions } from '@mikro-orm/core';
import { DefaultLogger } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { defineConfig } from '@mikro-orm/postgresql';
import { entities } from './server/db/entities.ts';

export type OrmConnectionOptions = {
  clientUrl: string;
  /** Read replicas: used only by reads that ask for them (`connectionType: 'read'`). */
  replicaUrls?: readonly string[];
  ssl?: boolean;
  pool?: { max?: number; idleMs?: number; connectionTimeoutMs?: number };
  /** Queries slower than this are logged with their duration (ms). */
  slowQueryMs?: number;
  /** Receives slow-query log lines; defaults to stderr. */
  onSlowQuery?: (entry: { query: string; took: number }) => void;
};

const rootDir = fileURLToPath(new URL('.', import.meta.url));

export function ormConfig(options: OrmConnectionOptions) {
  const driverOptions = {
    connectionTimeoutMillis: options.pool?.connectionTimeoutMs ?? 5_000,
    ...(options.ssl ? { ssl: { rejectUnauthorized: false } } : {}),
  };
  return defineConfig({
    clientUrl: options.clientUrl,
    // Replicas lag the primary: only reads that choose them explicitly go there (admin stats and
    // lists, see server/db/read-replica.ts); everything else, above all whatever must see its own
    // writes, stays on the primary.
    replicas: (options.replicaUrls ?? []).map((url, index) => ({
      name: `replica-${index + 1}`,
      clientUrl: url,
      // Named, so a replica's pg_stat_activity shows which connections are our replica reads.
      driverOptions: { ...driverOptions, application_name: 'forgeline-replica-reads' },
    })),
    preferReadReplicas: false,
    entities,
    baseDir: rootDir,
    extensions: [Migrator],
    // Every EntityManager must be a fork: one per procedure call, job or webhook.
    allowGlobalContext: false,
    discovery: { checkDuplicateTableNames: true },
    forceUtcTimezone: true,
    pool: { min: 0, max: options.pool?.max ?? 10, idleTimeoutMillis: options.pool?.idleMs ?? 30_000 },
    driverOptions,
    slowQueryThreshold: options.slowQueryMs,
    slowQueryLoggerFactory: (loggerOptions: LoggerOptions) =>
      new SlowQueryLogger(loggerOptions, options.onSlowQuery),
    migrations: {
      path: `${rootDir}migrations`,
      glob: '!(*.d).ts',
      tableName: 'mikro_orm_migrations',
      snapshotName: '.snapshot-forgeline',
      snapshotOnMigrate: false,
      transactional: true,
      allOrNothing: true,
      emit: 'ts',
      silent: true,
    },
  });
}

class SlowQueryLogger extends DefaultLogger {
  readonly #sink: OrmConnectionOptions['onSlowQuery'];
  constructor(options: LoggerOptions, sink: OrmConnectionOptions['onSlowQuery']) {
    super(options);
    this.#sink = sink;
  }
  override logQuery(context: Parameters<DefaultLogger['logQuery']>[0]): void {
    const entry = { query: context.query, took: context.took ?? 0 };
    if (this.#sink) this.#sink(entry);
    else process.stderr.write(`${JSON.stringify({ level: 'warn', msg: 'slow query', ...entry })}\n`);
  }
}

export default ormConfig({
  clientUrl: process.env.DATABASE_URL ?? 'postgresql://postgres@localhost:5432/forgeline',
});
