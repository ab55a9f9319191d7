// The bench's database: a fresh embedded PostgreSQL (fsync on), migrated and seeded with the
// settings row, the demo admin, and N users who each have a balance, a sign-up-bonus ledger row
// and one live session. Also the counters read around each measured run: statements per request
// (pg_stat_statements) and transactions (pg_stat_database).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { createLogger } from '../../server/common/logger.ts';
import { loadConfig } from '../../server/config.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../server/db/embedded-postgres.ts';
import { createOrm, EMBEDDED_DATABASE, migrateToLatest } from '../../server/db/orm.ts';
import { seedDatabase } from '../../server/db/seed.ts';
import { SESSION_COOKIE } from '../../shared/errors.ts';

export type BenchUser = { id: string; email: string; sessionId: string; cookie: string };

export type BenchDatabase = {
  url: string;
  pgDir: string;
  /** pg_stat_statements could be loaded (else statement counts fall back to transactions). */
  statementStats: boolean;
  users: BenchUser[];
  admin: pg.Pool;
  postmasterPid(): number | null;
  stop(): Promise<void>;
};

export type DatabaseOptions = {
  dir: string;
  users: number;
  /** Credits each seeded user starts with (their sign-up bonus). */
  startingBalance: number;
  settings: Record<string, string | number>;
  onLog?: (line: string) => void;
};

const DAY_MS = 24 * 60 * 60 * 1000;

export async function startBenchDatabase(options: DatabaseOptions): Promise<BenchDatabase> {
  const pgDir = join(options.dir, 'pg');
  let server: EmbeddedPostgres | undefined;
  let admin: pg.Pool | undefined;
  const stop = async () => {
    await admin?.end().catch(() => {});
    await server?.stop();
  };
  try {
    server = await startEmbeddedPostgres({
      dir: pgDir,
      settings: options.settings,
      ...(options.onLog ? { onLog: options.onLog } : {}),
    });
    await server.createDatabase(EMBEDDED_DATABASE);
    const url = server.url(EMBEDDED_DATABASE);

    const config = loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent', PGPOOL_MAX: '2' });
    const orm = await createOrm(url, config, createLogger('silent'));
    try {
      await migrateToLatest(orm);
      await seedDatabase(orm, createLogger('silent'));
    } finally {
      await orm.close(true);
    }

    admin = new pg.Pool({ connectionString: url, max: 2 });
    // An idle connection dropped by a shutdown (Ctrl-C) must not crash the bench mid-cleanup.
    admin.on('error', () => {});
    let statementStats = true;
    try {
      await admin.query('create extension if not exists pg_stat_statements');
      await admin.query('select pg_stat_statements_reset()');
    } catch {
      statementStats = false;
    }
    const users = await seedUsers(admin, options.users, options.startingBalance);
    await createReferenceTables(admin, options.users);
    await admin.query('vacuum analyze');

    return {
      url,
      pgDir,
      statementStats,
      users,
      admin,
      postmasterPid() {
        try {
          return Number(readFileSync(join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]) || null;
        } catch {
          return null;
        }
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Bulk-inserts users with a balance, a sign-up-bonus ledger row and a session each. */
async function seedUsers(db: pg.Pool, count: number, balance: number): Promise<BenchUser[]> {
  const users: BenchUser[] = [];
  for (let i = 0; i < count; i++) {
    // Lucia's ids are 40 lowercase base32 characters; 40 hex characters are as long.
    const sessionId = randomBytes(20).toString('hex');
    users.push({
      id: randomUUID(),
      email: `bench-${i}@forgeline.test`,
      sessionId,
      cookie: `${SESSION_COOKIE}=${sessionId}`,
    });
  }
  const ids = users.map((u) => u.id);
  const client = await db.connect();
  try {
    await client.query('begin');
    await client.query(
      `insert into users (id, email, name, role, status, created_at, updated_at)
       select id, email, 'Bench user', 'user', 'active', now(), now()
         from unnest($1::uuid[], $2::text[]) as t(id, email)`,
      [ids, users.map((u) => u.email)],
    );
    await client.query(
      `insert into credit_balances
         (id, user_id, balance, total_granted, ledger_seq, last_transaction_at, created_at, updated_at)
       select gen_random_uuid(), id, $2, $2, 1, now(), now(), now() from unnest($1::uuid[]) as t(id)`,
      [ids, balance],
    );
    await client.query(
      `insert into credit_transactions (id, user_id, seq, type, amount, balance_after, description, created_at)
       select gen_random_uuid(), id, 1, 'signup_bonus', $2, $2, 'Sign-up bonus', now()
         from unnest($1::uuid[]) as t(id)`,
      [ids, balance],
    );
    // Fresh sessions (expiring in 30 days) are never slid by Lucia, so reads stay reads.
    await client.query(
      `insert into sessions (id, user_id, expires_at, ip, user_agent, created_at)
       select hash, id, now() + make_interval(secs => $3), '127.0.0.1', 'forgeline-bench', now()
         from unnest($1::text[], $2::uuid[]) as t(hash, id)`,
      [users.map((u) => sha256(u.sessionId)), ids, (30 * DAY_MS) / 1000],
    );
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
  return users;
}

/**
 * The TPC-B-like reference's tables (tpcb.ts): one account per seeded user, pgbench's row widths
 * (a filler column), a history table without indexes as pgbench_history. Not part of the app.
 */
async function createReferenceTables(db: pg.Pool, accounts: number) {
  await db.query(`create table bench_tpcb_accounts
    (id int primary key, balance bigint not null, filler char(84)) with (fillfactor = 90)`);
  await db.query(
    `insert into bench_tpcb_accounts (id, balance, filler) select i, 0, '' from generate_series(1, $1) as i`,
    [accounts],
  );
  await db.query(`create table bench_tpcb_history
    (account_id int not null, delta int not null, created_at timestamptz not null, filler char(22))`);
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** A statement's calls and the time PostgreSQL spent executing them (ms, planning included). */
export type StatementCount = { query: string; calls: number; totalMs: number };
export type DatabaseCounters = {
  statements: StatementCount[];
  /**
   * Committed + rolled-back transactions (pg_stat_database, a running total: diff two readings).
   * Backends flush these at most once a second and an idle one up to 10 s later, so a reading just
   * after a run misses its last second or so: use statement counts where they exist.
   */
  transactions: number;
  /** Row counts of the tables asked for. */
  rows: Record<string, number>;
};

// (pg_stat_statements may show the constant 1 as a parameter.)
const FOREIGN_KEY_CHECK = /^SELECT (1|\$\d+) FROM ONLY "[^"]+"\."[^"]+" x WHERE .* FOR KEY SHARE OF x$/;

/** Clears pg_stat_statements (when loaded) before a measured run. */
export async function resetCounters(db: BenchDatabase): Promise<void> {
  if (db.statementStats) await db.admin.query('select pg_stat_statements_reset()');
}

/**
 * Statements run in the bench database since the last reset (excluding our own bookkeeping), the
 * database's transaction count, and the row counts of `tables` (read last, so a reading taken after
 * a reset does not count its own statements).
 */
export async function readCounters(db: BenchDatabase, tables: string[] = []): Promise<DatabaseCounters> {
  let statements: StatementCount[] = [];
  if (db.statementStats) {
    const { rows } = await db.admin.query<{ query: string; calls: string; total_ms: number }>(
      `select query, calls, total_exec_time + total_plan_time as total_ms from pg_stat_statements
        where dbid = (select oid from pg_database where datname = current_database())
          and query !~* 'pg_stat|pg_database'
        order by calls desc`,
    );
    statements = rows
      .map((row) => ({
        query: row.query.replace(/\s+/g, ' ').trim(),
        calls: Number(row.calls),
        totalMs: Number(row.total_ms),
      }))
      // Foreign-key checks run inside PostgreSQL (some are recorded as top-level): not round trips.
      .filter((row) => !FOREIGN_KEY_CHECK.test(row.query));
  }
  // pg_stat_database is a cumulative snapshot per transaction: make sure we read a fresh one.
  await db.admin.query('select pg_stat_clear_snapshot()');
  const { rows: xacts } = await db.admin.query<{ n: string }>(
    'select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()',
  );
  const rows: Record<string, number> = {};
  for (const table of tables) {
    if (!/^[a-z_]+(\.[a-z_]+)?$/.test(table)) throw new Error(`not a table name: ${table}`);
    const { rows: counted } = await db.admin.query<{ n: number }>(`select count(*)::int as n from ${table}`);
    rows[table] = counted[0]?.n ?? 0;
  }
  return { statements, transactions: Number(xacts[0]?.n ?? 0), rows };
}
