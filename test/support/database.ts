// A database of this test file's own, cloned from the migrated template, and the ORM on it.
import { randomBytes } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import type { Logger } from '../../server/common/logger.ts';
import { type Config, loadConfig } from '../../server/config.ts';
import { createOrm } from '../../server/db/orm.ts';
import { createTestLogger } from './logger.ts';

export type TestDatabase = { orm: MikroORM; config: Config; logger: Logger; url: string };

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(): Promise<TestDatabase & { drop(): Promise<void> }> {
  const name = `test_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`create database ${name} template ${inject('templateDatabase')}`));
  const url = new URL(inject('adminDatabaseUrl'));
  url.pathname = `/${name}`;
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'error', PGPOOL_MAX: '20' });
  const logger = createTestLogger();
  const orm = await createOrm(url.toString(), config, logger);
  return {
    orm,
    config,
    logger,
    url: url.toString(),
    async drop() {
      await orm.close(true);
      await admin((client) => client.query(`drop database if exists ${name} with (force)`));
    },
  };
}

/** Registers beforeAll/afterAll for this file; the returned object is filled in beforeAll. */
export function setupTestDatabase(): TestDatabase {
  const db = {} as TestDatabase;
  let drop = async () => {};
  beforeAll(async () => {
    const created = await createTestDatabase();
    Object.assign(db, created);
    drop = created.drop;
  });
  afterAll(() => drop());
  return db;
}
