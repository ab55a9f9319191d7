// generations.create writes its job inside its one statement (jobInsertSql, a direct insert into
// pg-boss's job table): the row must be the row `send` writes, so the workers treat both alike.
import { describe, expect, it } from 'vitest';
import { sql } from '../../server/db/sql.ts';
import { jobData, jobInsertSql, QUEUES } from '../../server/modules/jobs/queue.ts';
import { setupTestDatabase } from '../support/database.ts';

const db = setupTestDatabase();

// Columns that differ between any two jobs (ids, times, the payload).
const VOLATILE = ['id', 'data', 'created_on', 'start_after', 'keep_until', 'started_on', 'completed_on'];

async function jobRow(id: string) {
  const [row] = await sql<Record<string, unknown>>(
    db.orm.em.fork(),
    'select * from pgboss.job where id = $1',
    [id],
  );
  if (!row) throw new Error(`no job ${id}`);
  for (const column of VOLATILE) delete row[column];
  return row;
}

describe('a job written inside our statement', () => {
  it('is the row send() writes, with the data asked for', async () => {
    const sent = await db.runtime.jobs.boss.send(QUEUES.generationRun, { generationId: 'via-send' });
    const [inserted] = await sql<{ id: string }>(
      db.orm.em.fork(),
      `with job as (${jobInsertSql(QUEUES.generationRun, 1, 'true')}) select id from job`,
      [jobData({ generationId: 'via-statement' })],
    );
    expect(sent).toBeTruthy();
    expect(inserted?.id).toBeTruthy();
    expect(await jobRow(inserted?.id as string)).toEqual(await jobRow(sent as string));
    const [data] = await sql<{ data: unknown }>(
      db.orm.em.fork(),
      'select data from pgboss.job where id = $1',
      [inserted?.id],
    );
    expect(data?.data).toEqual({ generationId: 'via-statement' });
  });

  it('with a priority, is the row send() writes with that priority', async () => {
    const sent = await db.runtime.jobs.boss.send(
      QUEUES.generationRun,
      { generationId: 'via-send-priority' },
      { priority: 10 },
    );
    const [inserted] = await sql<{ id: string }>(
      db.orm.em.fork(),
      `with job as (${jobInsertSql(QUEUES.generationRun, 1, 'true', '(select 10)')}) select id from job`,
      [jobData({ generationId: 'via-statement-priority' })],
    );
    const row = await jobRow(inserted?.id as string);
    expect(row).toEqual(await jobRow(sent as string));
    expect(row.priority).toBe(10);
  });

  it('writes nothing when its condition is false', async () => {
    const rows = await sql<{ id: string }>(
      db.orm.em.fork(),
      `with job as (${jobInsertSql(QUEUES.generationRun, 1, 'false')}) select id from job`,
      [jobData({ generationId: 'never' })],
    );
    expect(rows).toEqual([]);
    const [count] = await sql<{ n: number }>(
      db.orm.em.fork(),
      `select count(*)::int as n from pgboss.job where data->>'generationId' = 'never'`,
    );
    expect(count?.n).toBe(0);
  });
});
