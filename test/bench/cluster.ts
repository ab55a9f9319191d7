// `npm run bench:cluster`: throughput of the scale-out rehearsal with one API process and with two
// (`npm run cluster -- --api N --workers 1`, each on a fresh data directory), the same closed-loop
// load (autocannon, BENCH_CONNECTIONS connections, BENCH_DURATION seconds per workload) of
// credits.balance (read) and generations.create (write: charge + ledger + generation + job), and
// the standby's replay lag sampled during the writes. Prints a table; writes
// test-results/cluster-bench.json. Knobs: BENCH_DURATION (10), BENCH_CONNECTIONS (50),
// BENCH_USERS (20), BENCH_API (1,2).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { makeTempDir } from '../../server/db/embedded-postgres.ts';
import { httpCall, ROOT, type Spawned, spawnNode } from '../support/processes.ts';
import type { BenchUser } from './database.ts';
import { runLoad } from './load.ts';
import { freePort } from './processes.ts';
import { workloads } from './workloads.ts';

const envInt = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const duration = envInt('BENCH_DURATION', 10);
const connections = envInt('BENCH_CONNECTIONS', 50);
const userCount = envInt('BENCH_USERS', 20);
const apiCounts = (process.env.BENCH_API ?? '1,2').split(',').map(Number);

type Ready = {
  primary: { url: string; pid: number };
  standby: { url: string };
  admin: { email: string; password: string };
};

async function trpc(base: string, path: string, input: unknown, cookie?: string) {
  const answer = await httpCall(`${base}/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-protection': '1', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify({ json: input }),
  });
  if (answer.status !== 200) throw new Error(`${path}: ${answer.status} ${answer.body}`);
  const session = ([] as string[])
    .concat(answer.headers['set-cookie'] ?? [])
    .find((value) => value.startsWith('forgeline_session='))
    ?.split(';')[0];
  return {
    data: (JSON.parse(answer.body) as { result: { data: { json: Record<string, unknown> } } }).result.data
      .json,
    session,
  };
}

async function startCluster(
  apiCount: number,
  dataDir: string,
): Promise<{ process: Spawned; base: string; ready: Ready }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawnNode(
    'server/cluster.ts',
    ['--json', '--no-client-build', '--api', String(apiCount), '--workers', '1'],
    {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
      DATABASE_URL: '',
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: base,
    },
  );
  await child.waitForOutput('"event":"ready"', 300_000);
  const line = child
    .stdout()
    .split('\n')
    .find((entry) => entry.includes('"event":"ready"')) as string;
  return { process: child, base, ready: JSON.parse(line) as Ready };
}

async function lagSampler(primaryUrl: string) {
  const client = new pg.Client({ connectionString: primaryUrl });
  await client.connect();
  const samples: { bytes: number; ms: number }[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await client.query<{ bytes: string; ms: string | null }>(
        `select pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) as bytes, extract(epoch from replay_lag) * 1000 as ms
           from pg_stat_replication where application_name = 'forgeline_standby'`,
      );
      const row = rows[0];
      if (row) samples.push({ bytes: Number(row.bytes), ms: Number(row.ms ?? 0) });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  return async () => {
    running = false;
    await loop;
    await client.end();
    const percentile = (values: number[], p: number) =>
      values.sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] ?? 0;
    return {
      samples: samples.length,
      bytes: {
        p50: percentile(
          samples.map((s) => s.bytes),
          0.5,
        ),
        max: percentile(
          samples.map((s) => s.bytes),
          1,
        ),
      },
      ms: {
        p50: percentile(
          samples.map((s) => s.ms),
          0.5,
        ),
        max: percentile(
          samples.map((s) => s.ms),
          1,
        ),
      },
    };
  };
}

const results: Record<string, unknown>[] = [];
for (const apiCount of apiCounts) {
  const dataDir = join(makeTempDir('forgeline-cluster-bench-'), 'data');
  const { process: child, base, ready } = await startCluster(apiCount, dataDir);
  try {
    const admin = await trpc(base, 'auth.signIn', ready.admin);
    const users: BenchUser[] = [];
    for (let i = 0; i < userCount; i++) {
      const email = `bench-${i}@example.test`;
      const signedUp = await trpc(base, 'auth.signUp', {
        email,
        password: 'correct horse battery staple',
        name: `B ${i}`,
      });
      const id = (signedUp.data as { id: string }).id;
      await trpc(
        base,
        'admin.credits.adjust',
        { userId: id, amount: 1_000_000, reason: 'cluster bench' },
        admin.session,
      );
      const cookie = signedUp.session as string;
      users.push({ id, email, cookie, sessionId: cookie.split('=')[1] as string });
    }
    for (const workload of workloads) {
      const stopSampling = workload.kind === 'write' ? await lagSampler(ready.primary.url) : null;
      // A short warm-up, then the measured run.
      await runLoad({
        url: base,
        workload,
        users,
        connections,
        durationSeconds: 3,
        serverPid: child.pid,
        postgresPid: null,
      });
      const result = await runLoad({
        url: base,
        workload,
        users,
        connections,
        durationSeconds: duration,
        serverPid: child.pid,
        postgresPid: null,
      });
      const lag = await stopSampling?.();
      results.push({
        apiProcesses: apiCount,
        workload: workload.name,
        rps: Math.round(result.rps),
        p50: result.latencyMs.p50,
        p99: result.latencyMs.p99,
        errors: result.errors + result.non2xx,
        ...(lag ? { replicaLag: lag } : {}),
      });
      console.log(JSON.stringify(results.at(-1)));
    }
  } finally {
    await child.stop('SIGTERM');
    rmSync(join(dataDir, '..'), { recursive: true, force: true });
  }
}

console.log('\n| workload | API processes | req/s | p50 ms | p99 ms | replica lag (median / max) |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const row of results as {
  workload: string;
  apiProcesses: number;
  rps: number;
  p50: number;
  p99: number;
  replicaLag?: { bytes: { p50: number; max: number }; ms: { p50: number; max: number } };
}[]) {
  const lag = row.replicaLag
    ? `${row.replicaLag.ms.p50.toFixed(1)} ms / ${row.replicaLag.ms.max.toFixed(1)} ms (${row.replicaLag.bytes.max} B max)`
    : '—';
  console.log(`| ${row.workload} | ${row.apiProcesses} | ${row.rps} | ${row.p50} | ${row.p99} | ${lag} |`);
}
mkdirSync(join(ROOT, 'test-results'), { recursive: true });
writeFileSync(join(ROOT, 'test-results', 'cluster-bench.json'), `${JSON.stringify(results, null, 2)}\n`);
