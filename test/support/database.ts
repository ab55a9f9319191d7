// A database of this test file's own, cloned from the migrated template, and the ORM on it.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import type { Logger } from '../../server/common/logger.ts';
import { type Config, loadConfig } from '../../server/config.ts';
import { makeTempDir } from '../../server/db/embedded-postgres.ts';
import { createOrm } from '../../server/db/orm.ts';
import { verifyInvariants } from '../../server/db/verify.ts';
import { type Runtime, type RuntimeOptions, startRuntime } from '../../server/runtime.ts';
import { type FakeS3, startFakeS3 } from './fake-s3.ts';
import { createTestLogger } from './logger.ts';

export type TestDatabase = {
  orm: MikroORM;
  config: Config;
  logger: Logger;
  url: string;
  runtime: Runtime;
  /** What createContextInner and createApp take. */
  deps: { orm: MikroORM; config: Config; logger: Logger; runtime: Runtime };
  /** The loopback S3 server when this file stores files on S3. */
  s3: FakeS3 | null;
  /** Where the local storage driver keeps this file's files. */
  storageRoot: string;
};

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export type TestDatabaseOptions = Pick<
  RuntimeOptions,
  'providers' | 'providerName' | 'stripe' | 'polar' | 'autoTopUpSweepMs'
> & {
  /** Extra environment for this file's config (e.g. STRIPE_WEBHOOK_SECRET). */
  env?: Record<string, string>;
  /** This file plants corruption on purpose: skip the db:verify run when it ends. */
  corrupts?: boolean;
  /**
   * The storage driver: `s3` starts a loopback S3 server for this file (test/support/fake-s3.ts).
   * Default: TEST_STORAGE_DRIVER, else `local` — `TEST_STORAGE_DRIVER=s3 npm test` runs every file on S3.
   */
  storage?: 'local' | 's3';
};

export async function createTestDatabase(
  options: TestDatabaseOptions = {},
): Promise<TestDatabase & { drop(): Promise<void> }> {
  const {
    env,
    corrupts = false,
    storage = process.env.TEST_STORAGE_DRIVER === 's3' ? 's3' : 'local',
    ...runtimeOptions
  } = options;
  const s3 = storage === 's3' ? await startFakeS3() : null;
  const name = `test_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`create database ${name} template ${inject('templateDatabase')}`));
  const url = new URL(inject('adminDatabaseUrl'));
  url.pathname = `/${name}`;
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'error', PGPOOL_MAX: '20', ...s3?.env, ...env });
  const logger = createTestLogger();
  const orm = await createOrm(url.toString(), config, logger);
  const storageRoot = makeTempDir('forgeline-files-');
  const runtime = await startRuntime({
    orm,
    databaseUrl: url.toString(),
    config,
    logger,
    storageRoot,
    superviseIntervalSeconds: 1,
    ...runtimeOptions,
  });
  return {
    orm,
    config,
    logger,
    url: url.toString(),
    runtime,
    deps: { orm, config, logger, runtime },
    s3,
    storageRoot,
    async drop() {
      await runtime.stop();
      // Every file's data must leave db:verify clean: whatever the tests did, no invariant broke.
      const violations = corrupts ? [] : await verifyInvariants(orm.em.fork());
      await orm.close(true);
      rmSync(storageRoot, { recursive: true, force: true });
      await s3?.stop();
      await admin((client) => client.query(`drop database if exists ${name} with (force)`));
      if (violations.length) {
        throw new Error(
          `db:verify found violations in this file's data:\n${JSON.stringify(violations, null, 2)}`,
        );
      }
    },
  };
}

/** Registers beforeAll/afterAll for this file; the returned object is filled in beforeAll. */
export function setupTestDatabase(options: TestDatabaseOptions = {}): TestDatabase {
  const db = {} as TestDatabase;
  let drop = async () => {};
  beforeAll(async () => {
    const created = await createTestDatabase(options);
    Object.assign(db, created);
    drop = created.drop;
  });
  afterAll(() => drop());
  return db;
}
