// admin.system.health: what an operator looks at first — database and table sizes, index usage,
// connections, the job queue, and the slowest statements when pg_stat_statements is loaded.
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../../db/sql.ts';

const num = (value: unknown) => Number(value ?? 0);

export async function systemHealth(em: EntityManager) {
  const [database] = await sql<{ name: string; bytes: string; version: string }>(
    em,
    'select current_database() as name, pg_database_size(current_database()) as bytes, version() as version',
  );
  const tables = await sql<Record<string, string>>(
    em,
    `select relname as name, n_live_tup as rows, pg_total_relation_size(relid) as bytes,
            seq_scan, idx_scan, n_dead_tup as dead_rows
       from pg_stat_user_tables where schemaname = 'public' order by pg_total_relation_size(relid) desc limit 30`,
  );
  const indexes = await sql<Record<string, string>>(
    em,
    `select relname as table, indexrelname as name, idx_scan as scans, pg_relation_size(indexrelid) as bytes
       from pg_stat_user_indexes where schemaname = 'public' order by idx_scan asc, pg_relation_size(indexrelid) desc limit 30`,
  );
  const connections = await sql<{ state: string | null; count: string }>(
    em,
    'select state, count(*) as count from pg_stat_activity where datname = current_database() group by state',
  );
  const queue = await sql<{ name: string; state: string; count: string }>(
    em,
    'select name, state::text as state, count(*) as count from pgboss.job group by name, state order by name, state',
  ).catch(() => []);
  const failed = await sql<{ id: string; name: string; completed_on: Date | null; output: unknown }>(
    em,
    `select id, name, completed_on, output from pgboss.job where state = 'failed' order by completed_on desc nulls last limit 10`,
  ).catch(() => []);
  const hasStatements = await sql<{ present: boolean }>(
    em,
    "select exists(select 1 from pg_extension where extname = 'pg_stat_statements') as present",
  );
  const slowQueries = hasStatements[0]?.present
    ? await sql<Record<string, string>>(
        em,
        `select left(query, 300) as query, calls, round(mean_exec_time::numeric, 2) as mean_ms,
                  round(total_exec_time::numeric, 1) as total_ms
             from pg_stat_statements order by mean_exec_time desc limit 10`,
      ).catch(() => [])
    : null;
  return {
    database: { name: database?.name ?? '', bytes: num(database?.bytes), version: database?.version ?? '' },
    tables: tables.map((t) => ({
      name: t.name,
      rows: num(t.rows),
      bytes: num(t.bytes),
      seqScans: num(t.seq_scan),
      indexScans: num(t.idx_scan),
      deadRows: num(t.dead_rows),
    })),
    indexes: indexes.map((i) => ({ table: i.table, name: i.name, scans: num(i.scans), bytes: num(i.bytes) })),
    connections: Object.fromEntries(connections.map((c) => [c.state ?? 'unknown', num(c.count)])) as Record<
      string,
      number
    >,
    queue: queue.map((q) => ({ name: q.name, state: q.state, count: num(q.count) })),
    failedJobs: failed.map((job) => ({
      id: job.id,
      name: job.name,
      completedOn: job.completed_on,
      output: job.output,
    })),
    slowQueries:
      slowQueries?.map((q) => ({
        query: q.query,
        calls: num(q.calls),
        meanMs: num(q.mean_ms),
        totalMs: num(q.total_ms),
      })) ?? null,
  };
}
