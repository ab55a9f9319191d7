// The slow-query log times the statement alone; a wait for a free pool connection is logged apart.
// (Before: a 1 ms query that waited 1.2 s for a connection was logged as a 1.2 s "slow query".)
import type { MikroORM } from '@mikro-orm/postgresql';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { createOrm } from '../../server/db/orm.ts';
import { setupTestDatabase } from '../support/database.ts';

const db = setupTestDatabase();
const lines: { msg: string; query?: string; took?: number; waits?: number; maxWaitMs?: number }[] = [];
let orm: MikroORM;

beforeAll(async () => {
  // Its own ORM on the same database: one connection, slow at 1 s, every queued wait reported.
  const config = loadConfig({ NODE_ENV: 'test', PGPOOL_MAX: '1', SLOW_QUERY_MS: '1000', POOL_WAIT_MS: '0' });
  const logger = pino(
    { level: 'warn', base: undefined },
    { write: (line: string) => lines.push(JSON.parse(line)) },
  );
  orm = await createOrm(db.url, config, logger);
});
afterAll(() => orm.close(true));

describe('slow statements and pool waits', () => {
  it('logs the slow statement, and the fast one that waited for the connection only as a wait', async () => {
    const holder = orm.em.fork();
    await holder.begin(); // holds the pool's only connection
    const slow = holder.execute('select pg_sleep(1.2) as slept');
    const waiting = orm.em.fork().execute('select 1 as waited_for_the_pool');
    await slow;
    await holder.commit();
    await waiting;

    const slowQueries = lines.filter((line) => line.msg === 'slow query');
    expect(slowQueries.map((line) => line.query)).toEqual([expect.stringContaining('pg_sleep')]);
    const waits = lines.filter((line) => line.msg === 'waited for a database connection');
    expect(waits).toEqual([expect.objectContaining({ waits: 1, poolSize: 1 })]);
  });
});
