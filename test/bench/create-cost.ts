// What generations.create's statement costs inside PostgreSQL, with and without its pg-boss job
// insert (the README's Performance section quotes it). One connection, no Node server in the way:
// a fresh embedded PostgreSQL seeded as the bench seeds it (fsync on), pg-boss's schema and queues
// as the server creates them, then blocks of creates — begin; the statement (prepared); commit —
// alternating between the statement as Forgeline sends it and the same statement without its `job`
// CTE. PostgreSQL's own time per statement (pg_stat_statements), WAL bytes per create
// (pg_current_wal_lsn) and the transaction's wall time on the connection.
//
// node test/bench/create-cost.ts   (CREATE_COST_N: creates per variant, default 1500)
import { rmSync } from 'node:fs';
import pg from 'pg';
import { createLogger } from '../../server/common/logger.ts';
import { makeTempDir } from '../../server/db/embedded-postgres.ts';
import {
  CREATE_HELD_SQL,
  createGenerationStatement,
} from '../../server/modules/generations/generations.service.ts';
import { startJobs } from '../../server/modules/jobs/queue.ts';
import { startBenchDatabase } from './database.ts';

const creates = Number(process.env.CREATE_COST_N ?? 1500);
const BLOCK = 100;

/** The statement without its job: the `job` CTE gone, `queued` always true. */
function withoutJob(text: string): string {
  const start = text.indexOf(',\njob as (');
  const end = text.indexOf('\nselect exists (select 1 from gen) as created');
  if (start < 0 || end < start) throw new Error('the create statement changed shape: update create-cost.ts');
  return (text.slice(0, start) + text.slice(end)).replace(
    'exists (select 1 from job) as queued',
    'true as queued',
  );
}

const tmp = makeTempDir('forgeline-create-cost-');
const db = await startBenchDatabase({
  dir: tmp,
  users: 200,
  startingBalance: 1_000_000,
  settings: {
    shared_buffers: '256MB',
    fsync: 'on',
    synchronous_commit: 'on',
    shared_preload_libraries: 'pg_stat_statements',
    'pg_stat_statements.track': 'top',
  },
});
const client = new pg.Client({ connectionString: db.url });
try {
  const jobs = await startJobs({ url: db.url, logger: createLogger('silent') });
  await jobs.stop({ graceful: false });
  await client.connect();

  const variants = [
    { name: 'with the job insert', text: CREATE_HELD_SQL, dropLast: false },
    { name: 'without it', text: withoutJob(CREATE_HELD_SQL), dropLast: true },
  ];
  const totals = variants.map(() => ({ walBytes: 0, wallMs: 0, n: 0, statementMs: [] as number[] }));
  const logo = { appName: 'Acme', appFocus: 'rockets', color1: '#112233', color2: '#445566' };
  let next = 0;
  const run = async (index: number, count: number, measure: boolean) => {
    const variant = variants[index] as (typeof variants)[number];
    const total = totals[index] as (typeof totals)[number];
    const before = (await client.query<{ lsn: string }>('select pg_current_wal_lsn() as lsn')).rows[0]?.lsn;
    for (let i = 0; i < count; i++) {
      const user = db.users[next++ % db.users.length] as { id: string };
      const statement = createGenerationStatement(
        user.id,
        { kind: 'logo', input: logo, outputCount: 1 } as never,
        { versionId: null, unitCost: 1 },
        'local',
      );
      const values = variant.dropLast ? statement.values.slice(0, -1) : statement.values;
      const started = performance.now();
      await client.query('begin');
      const sent = performance.now();
      await client.query({ name: `create-${index}`, text: variant.text, values });
      if (measure) total.statementMs.push(performance.now() - sent);
      await client.query('commit');
      if (measure) total.wallMs += performance.now() - started;
    }
    const wal = await client.query<{ bytes: string }>(
      'select pg_wal_lsn_diff(pg_current_wal_lsn(), $1) as bytes',
      [before],
    );
    if (measure) {
      total.walBytes += Number(wal.rows[0]?.bytes ?? 0);
      total.n += count;
    }
  };
  // Warm-up (plans cached, generic plans in use), then counters reset.
  for (const index of [0, 1]) await run(index, 50, false);
  await client.query('select pg_stat_statements_reset()');
  for (let done = 0; done < creates; done += BLOCK) {
    for (const index of done % (2 * BLOCK) === 0 ? [0, 1] : [1, 0]) await run(index, BLOCK, true);
  }
  const stats = await client.query<{ query: string; calls: string; mean: number; min: number }>(
    `select query, calls, mean_exec_time as mean, min_exec_time as min from pg_stat_statements
      where query like 'with gen as%' order by calls desc`,
  );
  for (const [index, variant] of variants.entries()) {
    const total = totals[index] as (typeof totals)[number];
    const row = stats.rows.find((r) => r.query.includes('job as (') === !variant.dropLast);
    const sorted = total.statementMs.toSorted((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    const µs = (ms: number) => `${Math.round(ms * 1000)} µs`;
    console.log(
      `${variant.name.padEnd(20)} statement: PostgreSQL mean ${µs(row?.mean ?? 0)}, min ${µs(row?.min ?? 0)} ` +
        `(pg_stat_statements, ${row?.calls} calls); round trip median ${µs(median)}; ` +
        `WAL ${Math.round(total.walBytes / total.n)} B/create; begin+statement+commit ${µs(total.wallMs / total.n)} mean wall`,
    );
  }
} finally {
  await client.end().catch(() => {});
  await db.stop();
  rmSync(tmp, { recursive: true, force: true });
}
