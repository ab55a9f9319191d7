// The bench's write ceiling: a TPC-B-like transaction (begin; update one account's balance; insert
// a history row; commit) sent by a bare `pg` pool, as many at once as the HTTP runs' connections,
// through a pool as large as the servers'. Prepared statements, fsync on: what this machine's
// PostgreSQL commits per second for the smallest honest ledger write. Runs for DURATION seconds
// and prints one JSON line: { transactions, seconds, cpuSeconds }.
//
// Environment: DATABASE_URL, CONCURRENCY, PGPOOL_MAX, DURATION (s), ACCOUNTS (rows in
// bench_tpcb_accounts, created by database.ts).
import pg from 'pg';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL is required');
const concurrency = Number(process.env.CONCURRENCY ?? 50);
const seconds = Number(process.env.DURATION ?? 10);
const accounts = Number(process.env.ACCOUNTS ?? 2000);
const pool = new pg.Pool({ connectionString: url, max: Number(process.env.PGPOOL_MAX ?? 10) });

const UPDATE = {
  name: 'tpcb_update',
  text: 'update bench_tpcb_accounts set balance = balance + $1 where id = $2',
};
const INSERT = {
  name: 'tpcb_insert',
  text: 'insert into bench_tpcb_history (account_id, delta, created_at) values ($1, $2, now())',
};

let transactions = 0;
let stop = false;

async function loop() {
  while (!stop) {
    const account = 1 + Math.floor(Math.random() * accounts);
    const delta = Math.floor(Math.random() * 10_000) - 5_000;
    const client = await pool.connect();
    try {
      await client.query('begin');
      await client.query({ ...UPDATE, values: [delta, account] });
      await client.query({ ...INSERT, values: [account, delta] });
      await client.query('commit');
      transactions++;
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }
}

const started = performance.now();
const timer = setTimeout(() => {
  stop = true;
}, seconds * 1000);
await Promise.all(Array.from({ length: concurrency }, loop));
clearTimeout(timer);
const elapsed = (performance.now() - started) / 1000;
await pool.end();
const cpu = process.cpuUsage();
process.stdout.write(
  `${JSON.stringify({ transactions, seconds: elapsed, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`,
);
