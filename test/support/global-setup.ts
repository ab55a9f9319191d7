// Once per `npm test` run: start one PostgreSQL (embedded, or the server DATABASE_URL points at),
// create a template database, migrate and seed it. Each test file clones the template
// (test/support/database.ts), so files run in parallel on databases of their own.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { createLogger } from '../../server/common/logger.ts';
import { loadConfig } from '../../server/config.ts';
import { makeTempDir, startEmbeddedPostgres } from '../../server/db/embedded-postgres.ts';
import { createOrm, migrateToLatest } from '../../server/db/orm.ts';
import { startJobs } from '../../server/modules/jobs/queue.ts';
import { ensureSettings } from '../../server/modules/settings/settings.service.ts';

export const TEMPLATE_DATABASE = 'forgeline_test_template';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A URL to the cluster's maintenance database, from which test databases are created. */
    adminDatabaseUrl: string;
    templateDatabase: string;
  }
}

export default async function setup(project: TestProject) {
  let adminUrl: string;
  let stop = async () => {};
  if (process.env.DATABASE_URL) {
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = '/postgres';
    adminUrl = url.toString();
  } else {
    const dir = makeTempDir('forgeline-test-');
    const server = await startEmbeddedPostgres({
      dir: join(dir, 'pg'),
      // Durability buys nothing in a throwaway test cluster.
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: 300 },
    });
    adminUrl = server.url('postgres');
    stop = async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  }

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${TEMPLATE_DATABASE} with (force)`);
  await admin.query(`create database ${TEMPLATE_DATABASE}`);
  await admin.end();

  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${TEMPLATE_DATABASE}`;
  const config = loadConfig({ LOG_LEVEL: 'silent', NODE_ENV: 'test' });
  const orm = await createOrm(templateUrl.toString(), config, createLogger('silent'));
  await migrateToLatest(orm);
  await ensureSettings(orm.em.fork());
  await orm.close(true);
  // Install pg-boss's schema and our queues once, in the template.
  const jobs = await startJobs({ url: templateUrl.toString(), logger: createLogger('silent') });
  await jobs.stop();

  project.provide('adminDatabaseUrl', adminUrl);
  project.provide('templateDatabase', TEMPLATE_DATABASE);
  return stop;
}
