// The one MikroORM configuration, used by the server, the worker, the db:* commands and the tests.
// `ormConfig()` takes the connection details; the default export reads them from the environment.
import { fileURLToPath } from 'node:url';
import { Migrator } from '@mikro-orm/migrations';
import { defineConfig } from '@mikro-orm/postgresql';
import type pg from 'pg';
import { afterCommitSubscriber } from './server/db/after-commit.ts';
import { entities } from './server/db/entities.ts';
import {
  dropHeldBeginOnRelease,
  InstrumentedClient,
  instrumentPool,
  type PoolInstrumentation,
  slowStatementReporter,
} from './server/db/sql.ts';

export type OrmConnectionOptions = {
  clientUrl: string;
  /** Read replicas: used only by reads that ask for them (`connectionType: 'read'`). */
  replicaUrls?: readonly string[];
  ssl?: boolean;
  pool?: { max?: number; idleMs?: number; connectionTimeoutMs?: number };
  /**
   * Slow statements and long waits for a pool connection, timed apart (server/db/sql.ts). Unset:
   * neither is reported (CLI tools, the migration generator).
   */
  instrumentation?: PoolInstrumentation;
};

const rootDir = fileURLToPath(new URL('.', import.meta.url));

export function ormConfig(options: OrmConnectionOptions) {
  const driverOptions = {
    connectionTimeoutMillis: options.pool?.connectionTimeoutMs ?? 5_000,
    ...(options.ssl ? { ssl: { rejectUnauthorized: false } } : {}),
    // Our pg.Client: prepared hot statements, statement timing, a transaction's `begin` sent with
    // its first statement — which needs pg's pipeline mode (server/db/sql.ts, ADR 0009).
    Client: InstrumentedClient,
    pipeline: true,
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
      driverOptions: {
        ...driverOptions,
        application_name: 'forgeline-replica-reads',
        onPoolCreated: dropHeldBeginOnRelease,
      },
    })),
    preferReadReplicas: false,
    entities,
    baseDir: rootDir,
    extensions: [Migrator],
    // Every EntityManager must be a fork: one per procedure call, job or webhook.
    allowGlobalContext: false,
    discovery: { checkDuplicateTableNames: true },
    forceUtcTimezone: true,
    // Runs work registered with afterCommit() (server/db/after-commit.ts) once its transaction commits.
    subscribers: [afterCommitSubscriber],
    pool: { min: 0, max: options.pool?.max ?? 10, idleTimeoutMillis: options.pool?.idleMs ?? 30_000 },
    driverOptions: {
      ...driverOptions,
      ...(options.instrumentation ? slowStatementReporter(options.instrumentation) : {}),
      onPoolCreated: (pool: pg.Pool) => {
        dropHeldBeginOnRelease(pool);
        if (options.instrumentation) instrumentPool(pool, options.instrumentation);
      },
    },
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

export default ormConfig({
  clientUrl: process.env.DATABASE_URL ?? 'postgresql://postgres@localhost:5432/forgeline',
});
