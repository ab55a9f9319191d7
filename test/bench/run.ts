// `npm run bench` (SPEC.md §13, §14): Forgeline against a bare node:http + pg baseline doing the
// same SQL and a create-t3-app-style peer (peer-server.ts), side by side in one run on one fresh
// PostgreSQL (fsync on).
//
//   1. embedded PostgreSQL in a temp dir, migrated, seeded with BENCH_USERS users (balance, ledger
//      row and session each) and the TPC-B-like reference's tables, pg_stat_statements loaded;
//   2. Forgeline (`node server/main.ts`, production, no job workers), the baseline and the peer as
//      child processes, same pool size;
//   3. per workload: a warm-up of each, then closed-loop runs interleaved A B C, B C A … (the order
//      rotates so drift does not favour one side; autocannon) — for a write, each round also runs
//      the TPC-B-like reference (tpcb.ts); then one closed-loop run of Forgeline and the baseline
//      at 256 connections, then an open-loop run of each at 75 % of Forgeline's median peak with
//      up to 256 connections (requests on a steady schedule, latency from the scheduled time: see
//      load.ts); a server's backlog is drained before the next run starts;
//   4. with BENCH_SOAK=<seconds>: Forgeline alone under an open loop at 75 % of each workload's
//      peak, in slices, its RSS read after each (memory must stay flat);
//   5. a table on stdout and test-results/bench.json.
// Nothing about speed is asserted: the SPEC targets are reported as PASS/FAIL lines. The exit code
// is 1 only when the bench itself failed or a workload could not be measured (a server answered
// it wrongly: see "NOT MEASURED").
//
// Knobs (environment): BENCH_USERS (2000), BENCH_BALANCE (credits per user, 1000000),
// BENCH_CONNECTIONS (50), BENCH_WARMUP (5 s), BENCH_DURATION (10 s), BENCH_ROUNDS (3),
// BENCH_POOL (10), BENCH_OPEN_LOOP (10 s, 0 to skip), BENCH_OPEN_LOOP_RATE (req/s; default 75 % of
// Forgeline's peak), BENCH_WORKLOADS (comma-separated names),
// BENCH_PEER=0 (no peer), BENCH_SOAK (0 s), BENCH_CPU_PROF=1 (profile Forgeline and the baseline
// into test-results/bench-profile/), BENCH_NODE_ARGS (extra Node options for both, e.g.
// --trace-gc), BENCH_KEEP=1 (keep the temp dir, for its server logs), BENCH_TRACE=1 (each open
// loop's slowest moments beside the servers' event-loop stalls and GC pauses, PostgreSQL's
// background work and the machine's idle cores: trace.ts; keeps the temp dir),
// BENCH_NOISE_RETRIES (2: see noiseLimitCores). The defaults take about 8 minutes on 2 cores (more
// when noisy runs are redone); for steadier numbers, e.g. BENCH_DURATION=30 BENCH_ROUNDS=5
// BENCH_WARMUP=15 BENCH_OPEN_LOOP=30.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from '../../server/db/embedded-postgres.ts';
import { SESSION_COOKIE } from '../../shared/errors.ts';
import {
  type BenchDatabase,
  type BenchUser,
  type DatabaseCounters,
  readCounters,
  resetCounters,
  startBenchDatabase,
} from './database.ts';
import { type LoadResult, median, runLoad, stopLoad } from './load.ts';
import {
  machineBusySeconds,
  rssMiB,
  type ServerProcess,
  startServer,
  treeCpu,
  treeCpuDelta,
} from './processes.ts';
import { explainTail, postgresTraceSettings, sampleIdleCores, TRACE_WINDOW_MS } from './trace.ts';
import { type Workload, workloads } from './workloads.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RESULTS_FILE = join(ROOT, 'test-results', 'bench.json');

const envInt = (name: string, fallback: number) => {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`${name} must be a non-negative number`);
  return parsed;
};

const settings = {
  users: envInt('BENCH_USERS', 2000),
  // A generations.create costs a credit or two: enough for any run length we would try.
  startingBalance: envInt('BENCH_BALANCE', 1_000_000),
  pool: envInt('BENCH_POOL', 10),
  connections: envInt('BENCH_CONNECTIONS', 50),
  warmupSeconds: envInt('BENCH_WARMUP', 5),
  runSeconds: Math.max(1, envInt('BENCH_DURATION', 10)),
  rounds: Math.max(1, envInt('BENCH_ROUNDS', 3)),
  openLoopSeconds: envInt('BENCH_OPEN_LOOP', 10),
  openLoopFraction: 0.75,
  openLoopRate: envInt('BENCH_OPEN_LOOP_RATE', 0),
  // A run during which more than this many cores were busy outside the bench is run again, once,
  // at most BENCH_NOISE_RETRIES times per workload (which bounds the time it adds; 0: never).
  noiseLimitCores: 0.5,
  noiseRetries: envInt('BENCH_NOISE_RETRIES', 2),
  /** The open-loop driver's socket cap (a request beyond it waits, and its latency shows it). */
  openLoopConnections: 256,
  /** The closed-loop connections of the second peak run (SPEC §14: throughput must hold there). */
  manyConnections: 256,
  /** Run the create-t3-app-style peer (peer-server.ts) beside the baseline (BENCH_PEER=0: skip). */
  peer: process.env.BENCH_PEER !== '0',
  /** A long open-loop run at 75 % load, for memory (seconds; 0: none). */
  soakSeconds: envInt('BENCH_SOAK', 0),
  cpuProfile: process.env.BENCH_CPU_PROF === '1',
  /** Extra Node options for Forgeline and the baseline (e.g. `--trace-gc`; logs kept with BENCH_KEEP=1). */
  nodeArgs: (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
  /** Explain the open loop's slow moments (trace.ts); keeps the temp dir. */
  trace: process.env.BENCH_TRACE === '1',
  keepTemp: process.env.BENCH_KEEP === '1' || process.env.BENCH_TRACE === '1',
  postgres: {
    shared_buffers: '1GB',
    max_connections: 100,
    // A ledger may not cheat: durable commits, as in production.
    fsync: 'on',
    synchronous_commit: 'on',
    shared_preload_libraries: 'pg_stat_statements',
    'pg_stat_statements.track': 'top',
    'pg_stat_statements.track_utility': 'on',
    ...(process.env.BENCH_TRACE === '1' ? postgresTraceSettings : {}),
  } as Record<string, string | number>,
};

const selected = process.env.BENCH_WORKLOADS?.split(',').map((name) => name.trim());
const benchWorkloads = selected ? workloads.filter((w) => selected.includes(w.name)) : workloads;
const unknown = selected?.filter((name) => !workloads.some((w) => w.name === name)) ?? [];
if (unknown.length || !benchWorkloads.length) {
  console.error(
    `unknown BENCH_WORKLOADS: ${unknown.join(', ')} (known: ${workloads.map((w) => w.name).join(', ')})`,
  );
  process.exit(2);
}

type Variant = 'forgeline' | 'baseline' | 'peer';
const VARIANTS: Variant[] = settings.peer ? ['forgeline', 'baseline', 'peer'] : ['forgeline', 'baseline'];
/** The variants also measured at BENCH's many connections and in the open loop. */
const HTTP_PEAK_VARIANTS: Variant[] = ['forgeline', 'baseline'];

type RunRecord = LoadResult & {
  variant: Variant;
  phase: 'warmup' | 'measured' | 'many-connections' | 'open-loop';
  round: number;
  offeredRate: number | null;
  /** Statements on the request path (see toRecord) per request. */
  statementsPerRequest: number | null;
  /** Other statements during the run: background work of either server (pg-boss maintenance …). */
  backgroundStatements: number;
  background: { query: string; calls: number }[];
  /** pg_stat_database's count: lags (see DatabaseCounters), kept for when statements are missing. */
  transactionsPerRequest: number | null;
  /** Per request: how many times each statement ran, and PostgreSQL's time in it (µs per call). */
  statements: { query: string; perRequest: number; usPerCall: number }[];
  /** Rows each request sent added to the workload's tables (1 each when every request succeeds). */
  rowsPerRequest: Record<string, number>;
  /** Spoilt by load from outside the bench and run again (not in the medians). */
  discarded?: boolean;
};

/** Resident memory (MiB): Forgeline's at the start, after every run and at the end; the baseline's at the end. */
type Rss = {
  forgeline: { afterStart: number; end: number; afterEachRun: number[] };
  baseline: number;
  peer: number | null;
};

/** One run of the TPC-B-like reference (tpcb.ts). */
type ReferenceRun = {
  round: number;
  tps: number;
  seconds: number;
  cpu: { client: number; postgres: number; other: number };
  discarded?: boolean;
};

type WorkloadReport = {
  workload: string;
  kind: Workload['kind'];
  targets: Workload['targets'];
  runs: RunRecord[];
  summary: Record<
    Variant,
    {
      medianRps: number;
      medianP50Ms: number;
      medianP99Ms: number;
      errors: number;
      non2xx: number;
      statementsPerRequest: number | null;
      rowsPerRequest: Record<string, number>;
      serverCpuUsPerRequest: number;
      postgresCpuUsPerRequest: number;
      openLoop: { offeredRate: number; rps: number; p50Ms: number; p99Ms: number; non2xx: number } | null;
      /** Closed-loop req/s at settings.manyConnections (forgeline and baseline). */
      manyConnectionsRps: number | null;
    }
  >;
  ratio: number;
  /** Forgeline's median req/s over the t3-style peer's (null without the peer). */
  peerRatio: number | null;
  /** Write workloads: the TPC-B-like reference runs of the same rounds, and Forgeline over their median. */
  reference: { runs: ReferenceRun[]; medianTps: number; ratio: number } | null;
  /** Forgeline's req/s over the baseline's within each round (the spread of the ratio). */
  roundRatios: number[];
  checks: { name: string; value: number | null; target: string; pass: boolean | null }[];
};

// ---------------------------------------------------------------------------------------------
// Cleanup: everything we start registers its undo here; it runs once, in reverse, on success,
// failure or a signal.

const cleanups: { name: string; run: () => Promise<void> | void }[] = [];
let cleaning: Promise<void> | undefined;
/** Set once cleanup starts: the measuring loop stops at its next step instead of carrying on. */
let interrupted = false;
function cleanup(): Promise<void> {
  interrupted = true;
  cleaning ??= (async () => {
    stopLoad();
    for (const { name, run } of cleanups.reverse()) {
      try {
        await run();
      } catch (error) {
        console.error(`cleanup (${name}) failed:`, error);
      }
    }
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the bench and cleaning up…`);
    void cleanup().finally(() => process.exit(130));
  });
}

const log = (message: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);

// ---------------------------------------------------------------------------------------------
async function main() {
  const started = Date.now();
  const loadAtStart = loadavg();
  // What else keeps this machine busy (another test run?) before we add anything.
  const busyBefore = machineBusySeconds();
  await sleep(2_000);
  const coresBusyBeforeStart = (machineBusySeconds() - busyBefore) / 2;
  log(`machine: ${cpus().length} cores, ${coresBusyBeforeStart.toFixed(2)} busy before the bench starts`);
  const tmp = makeTempDir('forgeline-bench-');
  cleanups.push({
    name: 'temp dir',
    run: () => {
      if (settings.keepTemp) log(`kept ${tmp}`);
      else rmSync(tmp, { recursive: true, force: true });
    },
  });

  log(`starting PostgreSQL in ${tmp} and seeding ${settings.users} users`);
  const db = await startBenchDatabase({
    ...(settings.trace ? { onLog: (line: string) => appendFileSync(join(tmp, 'pg.log'), `${line}\n`) } : {}),
    dir: tmp,
    users: settings.users,
    startingBalance: settings.startingBalance,
    settings: settings.postgres,
  });
  cleanups.push({ name: 'postgres', run: () => db.stop() });
  const postgresVersion = (await db.admin.query<{ v: string }>('show server_version')).rows[0]?.v ?? '?';
  if (!db.statementStats) log('pg_stat_statements unavailable: counting transactions instead');

  const commonEnv = { DATABASE_URL: db.url, PGPOOL_MAX: String(settings.pool), NODE_ENV: 'production' };
  log('starting Forgeline (builds the client first if dist/client is missing)');
  const profileDir = join(ROOT, 'test-results', 'bench-profile');
  if (settings.cpuProfile) mkdirSync(profileDir, { recursive: true });
  const traceArgs = settings.trace ? ['--import', './test/bench/stall-log.ts'] : [];
  const forgeline = await startServer({
    name: 'forgeline',
    script: 'server/main.ts',
    cwd: ROOT,
    env: { ...commonEnv, LOG_LEVEL: 'warn', RUN_WORKER: 'false', DATA_DIR: join(tmp, 'data') },
    logFile: join(tmp, 'forgeline.log'),
    readyPath: '/ready',
    readyTimeoutMs: 180_000,
    nodeArgs: [
      ...settings.nodeArgs,
      ...traceArgs,
      ...(settings.cpuProfile
        ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--cpu-prof-name=forgeline.cpuprofile']
        : []),
    ],
  });
  cleanups.push({ name: 'forgeline', run: () => forgeline.stop() });
  // After Forgeline: its start installs pg-boss's schema and queues, which the baseline sends to.
  log('starting the baseline');
  const baseline = await startServer({
    name: 'baseline',
    script: 'test/bench/baseline-server.ts',
    cwd: ROOT,
    env: commonEnv,
    logFile: join(tmp, 'baseline.log'),
    readyPath: '/ready',
    readyTimeoutMs: 30_000,
    nodeArgs: [
      ...settings.nodeArgs,
      ...traceArgs,
      ...(settings.cpuProfile
        ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--cpu-prof-name=baseline.cpuprofile']
        : []),
    ],
  });
  cleanups.push({ name: 'baseline', run: () => baseline.stop() });
  const servers = { forgeline, baseline } as Record<Variant, ServerProcess>;
  if (settings.peer) {
    log('starting the t3-style peer');
    const peer = await startServer({
      name: 'peer',
      script: 'test/bench/peer-server.ts',
      cwd: ROOT,
      env: commonEnv,
      logFile: join(tmp, 'peer.log'),
      readyPath: '/ready',
      readyTimeoutMs: 30_000,
    });
    cleanups.push({ name: 'peer', run: () => peer.stop() });
    servers.peer = peer;
  }

  const rss: Rss = {
    forgeline: { afterStart: rssMiB(forgeline.pid), end: 0, afterEachRun: [] },
    baseline: 0,
    peer: null,
  };
  const reports: WorkloadReport[] = [];
  const skipped: { workload: string; reason: string }[] = [];
  for (const workload of benchWorkloads) {
    try {
      await checkResponses(workload, servers, db.users);
    } catch (error) {
      // A workload the servers do not answer correctly is not measured; the others still are.
      const reason = error instanceof Error ? error.message : String(error);
      log(`skipping ${workload.name}: ${reason}`);
      skipped.push({ workload: workload.name, reason });
      continue;
    }
    reports.push(await benchWorkload(workload, servers, db, rss));
  }
  const soak = settings.soakSeconds > 0 && reports.length ? await runSoak(reports, servers, db) : null;
  rss.forgeline.end = rssMiB(forgeline.pid);
  rss.baseline = rssMiB(baseline.pid);
  rss.peer = servers.peer ? rssMiB(servers.peer.pid) : null;
  const serverErrors = VARIANTS.map((name) => ({ name, lines: errorLines(join(tmp, `${name}.log`)) }))
    .map((name) => ({ name, lines: errorLines(join(tmp, `${name}.log`)) }))
    .filter((entry) => entry.lines.length);

  const output = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? '?',
      memoryGiB: totalmem() / 2 ** 30,
      loadAverage: { atStart: loadAtStart, atEnd: loadavg() },
      coresBusyBeforeStart,
    },
    node: process.version,
    postgres: postgresVersion,
    settings,
    rssMiB: rss,
    workloads: reports,
    soak,
    skipped,
    serverErrors,
    elapsedSeconds: (Date.now() - started) / 1000,
  };
  mkdirSync(join(ROOT, 'test-results'), { recursive: true });
  writeFileSync(RESULTS_FILE, `${JSON.stringify(output, null, 2)}\n`);
  printReport(reports, rss, output.machine, soak);
  for (const { workload, reason } of skipped) {
    console.log(`\nNOT MEASURED: ${workload} — ${reason.split('\n')[0]}`);
  }
  if (skipped.length) process.exitCode = 1;
  for (const { name, lines } of serverErrors) {
    console.log(
      `\n${name} logged ${lines.length} warning(s)/error(s), e.g.:\n  ${lines.slice(0, 3).join('\n  ')}`,
    );
  }
  log(`wrote ${resolve(RESULTS_FILE)} (${output.elapsedSeconds.toFixed(0)} s)`);
}

/** A server log's warnings and errors (pino JSON at level ≥ 40) and any other output but its banner. */
function errorLines(file: string): string[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  type Entry = {
    level?: number;
    msg?: string;
    took?: number;
    query?: string;
    err?: { message?: string };
    warning?: { message?: string };
  };
  const summary = (line: string): string | null => {
    let entry: Entry;
    try {
      entry = JSON.parse(line) as Entry;
    } catch {
      return line.includes('Forgeline is running at') ? null : line.slice(0, 200);
    }
    if ((entry.level ?? 0) < 40) return null;
    const detail = entry.err?.message ?? entry.warning?.message ?? entry.query ?? '';
    const took = entry.took === undefined ? '' : ` (${entry.took} ms)`;
    return `${entry.msg ?? 'log'}${took}: ${detail.replace(/\s+/g, ' ').slice(0, 160)}`;
  };
  return (
    text
      .split('\n')
      .filter((line) => line.trim())
      .map(summary)
      .filter((line): line is string => line !== null)
      // Expected: the bench runs no job workers, so every generation's job waits in the queue.
      .filter((line) => !line.includes('large queue backlog: queue "generation-run"'))
  );
}

/**
 * Both servers must give the same answer (bar fresh ids and times) for the same user, and refuse
 * an unknown session with 401 — so the load below measures the same work on both.
 */
async function checkResponses(
  workload: Workload,
  servers: Record<Variant, ServerProcess>,
  users: BenchUser[],
) {
  const user = users[0] as BenchUser;
  const answers: string[] = [];
  for (const variant of VARIANTS) {
    const url = `${servers[variant].url}${workload.path}`;
    const headers = workload.headers(user);
    const response = await fetch(url, { method: workload.method, headers, body: workload.body?.(user) });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`${variant} ${workload.name}: not JSON (${response.status}):\n${text}`);
    }
    const problem = workload.check(response.status, body);
    if (problem) throw new Error(`${variant} ${workload.name}: ${problem}\n${text}`);
    answers.push(JSON.stringify(canonical(workload.comparable(body))));

    const anonymous = await fetch(url, {
      method: workload.method,
      headers: { ...headers, cookie: `${SESSION_COOKIE}=nope` },
      body: workload.body?.(user),
    });
    await anonymous.arrayBuffer();
    if (anonymous.status !== 401)
      throw new Error(`${variant} ${workload.name}: unknown session got ${anonymous.status}`);
  }
  if (answers.some((answer) => answer !== answers[0])) {
    throw new Error(`the servers answer ${workload.name} differently:\n  ${answers.join('\n  ')}`);
  }
}

/** Objects with their keys sorted (a jsonb column returns an object's keys in its own order). */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, inner]) => [key, canonical(inner)]),
    );
  }
  return value;
}

async function benchWorkload(
  workload: Workload,
  servers: Record<Variant, ServerProcess>,
  db: BenchDatabase,
  rss: Rss,
): Promise<WorkloadReport> {
  const runs: RunRecord[] = [];
  let retriesLeft = settings.noiseRetries;
  const run = async (
    variant: Variant,
    phase: RunRecord['phase'],
    round: number,
    rate?: number,
    isRetry = false,
  ): Promise<RunRecord> => {
    if (interrupted) throw new Error('interrupted');
    const seconds =
      phase === 'warmup'
        ? settings.warmupSeconds
        : phase === 'open-loop'
          ? settings.openLoopSeconds
          : settings.runSeconds;
    const before = await readCounters(db, workload.writes);
    await resetCounters(db);
    const tracing = settings.trace && phase === 'open-loop';
    const idleCores = tracing ? sampleIdleCores() : null;
    const result = await runLoad({
      timeline: tracing,
      url: servers[variant].url,
      workload,
      users: db.users,
      connections: rate
        ? settings.openLoopConnections
        : phase === 'many-connections'
          ? settings.manyConnections
          : settings.connections,
      durationSeconds: seconds,
      ...(rate ? { rate } : {}),
      serverPid: servers[variant].pid,
      postgresPid: db.postmasterPid(),
    });
    const cpuSamples = idleCores?.stop() ?? [];
    if (interrupted) throw new Error('interrupted');
    if (result.timeline) {
      const dir = dirname(servers[variant].logFile);
      const file = join(dir, `open-loop-${workload.name}-${variant}.json`);
      writeFileSync(file, JSON.stringify({ rate, ...result.timeline, idleCores: cpuSamples }));
      log(
        `${workload.name} ${variant} open loop, its slowest ${TRACE_WINDOW_MS} ms windows (timeline: ${file}):`,
      );
      const logs = [
        { name: variant, file: servers[variant].logFile },
        { name: 'postgres', file: join(dir, 'pg.log') },
      ];
      for (const line of explainTail(result.timeline, cpuSamples, logs)) log(line);
    }
    // Let the last in-flight requests finish (autocannon stops without waiting for them): a server
    // still working through a backlog would otherwise spoil the next run, whoever's it is.
    await drained(servers[variant]);
    const after = await readCounters(db, workload.writes);
    const record = toRecord(variant, phase, round, rate ?? null, result, before, after);
    runs.push(record);
    rss.forgeline.afterEachRun.push(rssMiB(servers.forgeline.pid));
    const rows = Object.values(record.rowsPerRequest);
    const elsewhere = result.cpu.other / (result.durationSeconds || 1);
    log(
      `${workload.name} ${variant.padEnd(9)} ${phase}${phase === 'measured' ? ` ${round}` : ''}: ` +
        `${result.rps.toFixed(0)} req/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms` +
        (record.statementsPerRequest !== null ? `, ${record.statementsPerRequest.toFixed(2)} stmt/req` : '') +
        (rows.length ? `, rows/req ${rows.map((n) => n.toFixed(2)).join('/')}` : '') +
        (result.non2xx || result.errors ? `, ${result.non2xx} non-2xx, ${result.errors} errors` : '') +
        (elsewhere > 0.25 ? `, ${elsewhere.toFixed(2)} cores busy elsewhere` : ''),
    );
    await sleep(1_000);
    // A neighbour that took a good part of the machine spoilt the run for whichever side it hit:
    // it is kept in the JSON, marked, and run again (the tables show both).
    if (phase !== 'warmup' && !isRetry && elsewhere > settings.noiseLimitCores && retriesLeft > 0) {
      retriesLeft--;
      record.discarded = true;
      log(
        `  ↳ ${elsewhere.toFixed(2)} cores were busy outside the bench: discarding this run, running it again`,
      );
      return run(variant, phase, round, rate, true);
    }
    return record;
  };

  const references: ReferenceRun[] = [];
  const reference = async (round: number) => {
    let record = await runReference(db, round);
    if (record.cpu.other / (record.seconds || 1) > settings.noiseLimitCores && retriesLeft > 0) {
      retriesLeft--;
      references.push({ ...record, discarded: true });
      log('  ↳ the reference run was noisy: running it again');
      record = await runReference(db, round);
    }
    references.push(record);
  };

  if (settings.warmupSeconds > 0) {
    for (const variant of VARIANTS) await run(variant, 'warmup', 0);
  }
  for (let round = 1; round <= settings.rounds; round++) {
    // A B C, B C A, C A B …: no side always runs on a machine another has just warmed or tired.
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round - 1) % VARIANTS.length] as Variant);
    for (const variant of order) await run(variant, 'measured', round);
    // The write ceiling, in the same round: the TPC-B-like reference.
    if (workload.kind === 'write') await reference(round);
  }
  // Throughput must hold with many connections (SPEC §14): one closed-loop run each at 256.
  for (const variant of HTTP_PEAK_VARIANTS) await run(variant, 'many-connections', 0);

  const measured = (variant: Variant) =>
    runs.filter((r) => r.variant === variant && r.phase === 'measured' && !r.discarded);
  const forgelinePeak = median(measured('forgeline').map((r) => r.rps));
  // BENCH_OPEN_LOOP_RATE fixes the offered rate (A/B runs of a change to the tail: the same load
  // on both sides of the comparison, whatever each run's noisy peak).
  const rate = settings.openLoopRate || Math.max(1, Math.round(forgelinePeak * settings.openLoopFraction));
  if (settings.openLoopSeconds > 0 && Number.isFinite(forgelinePeak)) {
    // Same offered load for both: 75 % of Forgeline's peak.
    for (const variant of HTTP_PEAK_VARIANTS) await run(variant, 'open-loop', 0, rate);
  }

  const summary = {} as WorkloadReport['summary'];
  for (const variant of VARIANTS) {
    const rows = measured(variant);
    const total = (pick: (r: RunRecord) => number) => rows.reduce((sum, r) => sum + pick(r), 0);
    const requests = total(served) || 1;
    const open = runs.find((r) => r.variant === variant && r.phase === 'open-loop' && !r.discarded);
    const many = runs.find((r) => r.variant === variant && r.phase === 'many-connections' && !r.discarded);
    const statementCounts = rows.map((r) => r.statementsPerRequest).filter((n): n is number => n !== null);
    const rowsPerRequest: Record<string, number> = {};
    for (const table of workload.writes ?? []) {
      rowsPerRequest[table] = median(rows.map((r) => r.rowsPerRequest[table] ?? Number.NaN));
    }
    summary[variant] = {
      medianRps: median(rows.map((r) => r.rps)),
      medianP50Ms: median(rows.map((r) => r.latencyMs.p50)),
      medianP99Ms: median(rows.map((r) => r.latencyMs.p99)),
      errors: total((r) => r.errors),
      non2xx: total((r) => r.non2xx),
      statementsPerRequest: statementCounts.length ? median(statementCounts) : null,
      rowsPerRequest,
      serverCpuUsPerRequest: (total((r) => r.cpu.server) / requests) * 1e6,
      postgresCpuUsPerRequest: (total((r) => r.cpu.postgres) / requests) * 1e6,
      openLoop: open
        ? {
            offeredRate: open.offeredRate ?? 0,
            rps: open.rps,
            p50Ms: open.latencyMs.p50,
            p99Ms: open.latencyMs.p99,
            non2xx: open.non2xx,
          }
        : null,
      manyConnectionsRps: many ? many.rps : null,
    };
  }
  const ratio = summary.forgeline.medianRps / summary.baseline.medianRps;
  const peerRatio = summary.peer ? summary.forgeline.medianRps / summary.peer.medianRps : null;
  const kept = references.filter((r) => !r.discarded);
  const referenceSummary = kept.length
    ? (() => {
        const medianTps = median(kept.map((r) => r.tps));
        return { runs: references, medianTps, ratio: summary.forgeline.medianRps / medianTps };
      })()
    : null;
  const roundRatios: number[] = [];
  for (let round = 1; round <= settings.rounds; round++) {
    const ours = measured('forgeline').find((r) => r.round === round);
    const theirs = measured('baseline').find((r) => r.round === round);
    if (ours && theirs) roundRatios.push(ours.rps / theirs.rps);
  }
  const f = summary.forgeline;
  const checks: WorkloadReport['checks'] = [
    {
      name: 'req/s ratio to baseline',
      value: ratio,
      target: `≥ ${workload.targets.ratio}`,
      pass: ratio >= workload.targets.ratio,
    },
    {
      name: 'p99 at 75 % of peak (ms)',
      value: f.openLoop?.p99Ms ?? null,
      target: `≤ ${workload.targets.p99Ms}`,
      pass: f.openLoop ? f.openLoop.p99Ms <= workload.targets.p99Ms : null,
    },
    { name: 'errors + non-2xx', value: f.errors + f.non2xx, target: '= 0', pass: f.errors + f.non2xx === 0 },
  ];
  if (workload.targets.cpuRatio !== undefined) {
    const cpuRatio = f.serverCpuUsPerRequest / summary.baseline.serverCpuUsPerRequest;
    checks.push({
      name: 'Node CPU per request, over the baseline’s',
      value: cpuRatio,
      target: `≤ ${workload.targets.cpuRatio}`,
      pass: cpuRatio <= workload.targets.cpuRatio,
    });
  }
  if (f.manyConnectionsRps !== null) {
    const held = f.manyConnectionsRps / f.medianRps;
    checks.push({
      name: `req/s at ${settings.manyConnections} connections over req/s at ${settings.connections}`,
      value: held,
      target: '≥ 0.9 (throughput holds)',
      pass: held >= 0.9,
    });
  }
  if (peerRatio !== null) {
    checks.push({
      name: 'req/s ratio to the t3-style peer',
      value: peerRatio,
      target: '≥ 1.0',
      pass: peerRatio >= 1,
    });
  }
  if (referenceSummary) {
    checks.push({
      name: 'req/s ratio to the TPC-B-like reference (tps)',
      value: referenceSummary.ratio,
      target: '≥ 0.5',
      pass: referenceSummary.ratio >= 0.5,
    });
  }
  if (workload.targets.statementsPerRequest !== undefined) {
    checks.push({
      name: 'statements per request',
      value: f.statementsPerRequest,
      target: `≤ ${workload.targets.statementsPerRequest}`,
      pass:
        f.statementsPerRequest === null
          ? null
          : f.statementsPerRequest <= workload.targets.statementsPerRequest + 0.01,
    });
  }
  // The ratio compares like with like only while the baseline issues the statements Forgeline does.
  const b = summary.baseline;
  checks.push({
    name: 'statements per request, Forgeline minus baseline',
    value:
      f.statementsPerRequest === null || b.statementsPerRequest === null
        ? null
        : f.statementsPerRequest - b.statementsPerRequest,
    // Background BEGIN/COMMITs share their pg_stat_statements entry with the request path's.
    target: '≈ 0, within 0.25 (else the baseline no longer mirrors Forgeline: compare the lists above)',
    pass:
      f.statementsPerRequest === null || b.statementsPerRequest === null
        ? null
        : Math.abs(f.statementsPerRequest - b.statementsPerRequest) <= 0.25,
  });
  for (const table of workload.writes ?? []) {
    for (const variant of VARIANTS) {
      const value = summary[variant].rowsPerRequest[table] ?? Number.NaN;
      checks.push({
        name: `${variant}: ${table} rows per request`,
        value,
        target: '= 1',
        pass: Math.abs(value - 1) < 0.005,
      });
    }
  }
  return {
    workload: workload.name,
    kind: workload.kind,
    targets: workload.targets,
    runs,
    summary,
    ratio,
    peerRatio,
    reference: referenceSummary,
    roundRatios,
    checks,
  };
}

/**
 * Waits until a server has answered what it was sent: its /ready (a database round trip through its
 * pool) queues behind the requests still in flight, so its answer means the backlog is gone.
 */
async function drained(server: ServerProcess) {
  for (let attempt = 0; attempt < 60; attempt++) {
    const started = performance.now();
    try {
      const response = await fetch(`${server.url}/ready`, { signal: AbortSignal.timeout(30_000) });
      await response.arrayBuffer();
    } catch {
      // Not answering yet: try again.
    }
    if (performance.now() - started < 50) break;
  }
  await sleep(500);
}

/** One run of the TPC-B-like reference (tpcb.ts, a child process) at the HTTP runs' concurrency. */
async function runReference(db: BenchDatabase, round: number): Promise<ReferenceRun> {
  const postgresPid = db.postmasterPid();
  const postgresBefore = postgresPid ? treeCpu(postgresPid) : new Map<number, number>();
  const machineBefore = machineBusySeconds();
  const child = spawn(process.execPath, [join(ROOT, 'test', 'bench', 'tpcb.ts')], {
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      CONCURRENCY: String(settings.connections),
      PGPOOL_MAX: String(settings.pool),
      DURATION: String(settings.runSeconds),
      ACCOUNTS: String(settings.users),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push({ name: 'reference', run: () => void child.kill('SIGKILL') });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  if (code !== 0) throw new Error(`the TPC-B-like reference exited with ${code}`);
  const result = JSON.parse(output) as { transactions: number; seconds: number; cpuSeconds: number };
  const postgres = postgresPid ? treeCpuDelta(postgresBefore, treeCpu(postgresPid)) : 0;
  const machine = machineBusySeconds() - machineBefore;
  const record: ReferenceRun = {
    round,
    tps: result.transactions / result.seconds,
    seconds: result.seconds,
    cpu: { client: result.cpuSeconds, postgres, other: Math.max(0, machine - postgres - result.cpuSeconds) },
  };
  log(
    `TPC-B-like reference ${round}: ${record.tps.toFixed(0)} tps` +
      (record.cpu.other / result.seconds > 0.25
        ? `, ${(record.cpu.other / result.seconds).toFixed(2)} cores busy elsewhere`
        : ''),
  );
  await sleep(1_000);
  return record;
}

type SoakReport = {
  seconds: number;
  slices: {
    workload: string;
    rate: number;
    rps: number;
    p99Ms: number;
    non2xx: number;
    errors: number;
    rssMiB: number;
  }[];
  rssStartMiB: number;
  rssEndMiB: number;
  /** End over start, in %; the peak of the second half over the peak of the first, in %. */
  growthPct: number;
  peakGrowthPct: number;
};

/**
 * Memory over a long run: Forgeline alone under an open loop at 75 % of each workload's peak,
 * the workloads taking turns in slices, its RSS read after each slice.
 */
async function runSoak(
  reports: WorkloadReport[],
  servers: Record<Variant, ServerProcess>,
  db: BenchDatabase,
): Promise<SoakReport> {
  const sliceSeconds = Math.max(5, Math.min(60, Math.floor(settings.soakSeconds / 4)));
  const slices: SoakReport['slices'] = [];
  const rssStart = rssMiB(servers.forgeline.pid);
  log(
    `soak: ${settings.soakSeconds} s at 75 % load in ${sliceSeconds}-second slices, RSS ${rssStart.toFixed(0)} MiB`,
  );
  const started = Date.now();
  for (let i = 0; (Date.now() - started) / 1000 < settings.soakSeconds && !interrupted; i++) {
    const report = reports[i % reports.length] as WorkloadReport;
    const workload = benchWorkloads.find((w) => w.name === report.workload) as Workload;
    const rate = Math.max(1, Math.round(report.summary.forgeline.medianRps * settings.openLoopFraction));
    const result = await runLoad({
      url: servers.forgeline.url,
      workload,
      users: db.users,
      connections: settings.openLoopConnections,
      durationSeconds: sliceSeconds,
      rate,
      serverPid: servers.forgeline.pid,
      postgresPid: db.postmasterPid(),
    });
    const rss = rssMiB(servers.forgeline.pid);
    slices.push({
      workload: workload.name,
      rate,
      rps: result.rps,
      p99Ms: result.latencyMs.p99,
      non2xx: result.non2xx,
      errors: result.errors,
      rssMiB: rss,
    });
    log(
      `soak ${workload.name} @${rate}/s: ${result.rps.toFixed(0)} req/s, p99 ${result.latencyMs.p99} ms, RSS ${rss.toFixed(0)} MiB`,
    );
  }
  const series = slices.map((slice) => slice.rssMiB);
  const half = Math.floor(series.length / 2);
  const firstPeak = Math.max(0, ...series.slice(0, half));
  const secondPeak = Math.max(0, ...series.slice(half));
  // The first slice's reading is the start: the process has met every workload's allocations by then.
  const rssStartMiB = series[0] ?? rssStart;
  const rssEndMiB = series.at(-1) ?? rssStart;
  return {
    seconds: (Date.now() - started) / 1000,
    slices,
    rssStartMiB,
    rssEndMiB,
    growthPct: ((rssEndMiB - rssStartMiB) / rssStartMiB) * 100,
    peakGrowthPct: firstPeak ? ((secondPeak - firstPeak) / firstPeak) * 100 : Number.NaN,
  };
}

/** Requests the server handled in a run: those answered in time plus those in flight at the stop. */
const served = (r: LoadResult) => Math.max(r.sent, r.requests) || 1;

function toRecord(
  variant: Variant,
  phase: RunRecord['phase'],
  round: number,
  offeredRate: number | null,
  result: LoadResult,
  before: DatabaseCounters,
  after: DatabaseCounters,
): RunRecord {
  const requests = served(result);
  // A statement on the request path runs for every request (or a good share of them); pg-boss's
  // maintenance and queue-cache refreshes (in either server, busy or idle) run a few times a run
  // whatever the load: counted apart as background.
  const onPath = after.statements.filter((s) => s.calls >= Math.max(5, 0.2 * requests));
  const background = after.statements.filter((s) => !onPath.includes(s));
  const sum = (list: { calls: number }[]) => list.reduce((total, s) => total + s.calls, 0);
  const rowsPerRequest: Record<string, number> = {};
  for (const [table, count] of Object.entries(after.rows)) {
    rowsPerRequest[table] = (count - (before.rows[table] ?? 0)) / requests;
  }
  return {
    variant,
    phase,
    round,
    offeredRate,
    ...result,
    statementsPerRequest: after.statements.length ? sum(onPath) / requests : null,
    backgroundStatements: sum(background),
    transactionsPerRequest: (after.transactions - before.transactions) / requests,
    statements: onPath.map((s) => ({
      query: s.query.slice(0, 160),
      perRequest: s.calls / requests,
      usPerCall: (s.totalMs / (s.calls || 1)) * 1000,
    })),
    background: background.map((s) => ({ query: s.query.slice(0, 160), calls: s.calls })),
    rowsPerRequest,
  };
}

// ---------------------------------------------------------------------------------------------

const fmt = (n: number | null | undefined, digits = 0) =>
  n === null || n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits);

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function printReport(
  reports: WorkloadReport[],
  rss: Rss,
  machine: {
    cpus: number;
    cpuModel: string;
    loadAverage: { atStart: number[]; atEnd: number[] };
    coresBusyBeforeStart: number;
  },
  soak: SoakReport | null,
) {
  for (const report of reports) {
    console.log(`\n══ ${report.workload} (${report.kind}) ══`);
    const rows = report.runs.map((r) => [
      r.variant,
      (r.phase === 'measured'
        ? `run ${r.round}`
        : r.phase === 'open-loop'
          ? `open @${r.offeredRate}/s`
          : r.phase === 'many-connections'
            ? `${settings.manyConnections} conns`
            : r.phase) + (r.discarded ? ' (noisy, redone)' : ''),
      fmt(r.rps),
      fmt(r.latencyMs.p50, 1),
      fmt(r.latencyMs.p90, 1),
      fmt(r.latencyMs.p99, 1),
      String(r.errors),
      String(r.non2xx),
      fmt(r.statementsPerRequest, 2),
      fmt((r.cpu.server / served(r)) * 1e6),
      fmt((r.cpu.postgres / served(r)) * 1e6),
      fmt((r.cpu.loadGenerator / served(r)) * 1e6),
      fmt(r.cpu.other / (r.durationSeconds || 1), 2),
    ]);
    console.log(
      table(
        [
          'variant',
          'phase',
          'req/s',
          'p50 ms',
          'p90 ms',
          'p99 ms',
          'errors',
          'non2xx',
          'stmt/req',
          'node µs/req',
          'pg µs/req',
          'loadgen µs/req',
          'other cores',
        ],
        rows,
      ),
    );
    const s = report.summary;
    console.log(
      `\nmedian of ${settings.rounds} interleaved runs (${settings.connections} connections, ${settings.runSeconds} s each):`,
    );
    console.log(
      table(
        [
          'variant',
          'req/s',
          'p50 ms',
          'p99 ms',
          'errors',
          'non2xx',
          'stmt/req',
          'node µs/req',
          'pg µs/req',
          'open-loop p99 ms',
        ],
        VARIANTS.map((v) => [
          v,
          fmt(s[v].medianRps),
          fmt(s[v].medianP50Ms, 1),
          fmt(s[v].medianP99Ms, 1),
          String(s[v].errors),
          String(s[v].non2xx),
          fmt(s[v].statementsPerRequest, 2),
          fmt(s[v].serverCpuUsPerRequest),
          fmt(s[v].postgresCpuUsPerRequest),
          s[v].openLoop ? `${fmt(s[v].openLoop?.p99Ms, 1)} @${s[v].openLoop?.offeredRate}/s` : '–',
        ]),
      ),
    );
    console.log(
      `ratio ours/baseline: ${fmt(report.ratio, 2)} (per round: ${report.roundRatios.map((r) => fmt(r, 2)).join(', ')})` +
        (report.peerRatio !== null ? `; ours/peer: ${fmt(report.peerRatio, 2)}` : ''),
    );
    if (report.reference) {
      console.log(
        `TPC-B-like reference: ${report.reference.runs
          .map((r) => `${fmt(r.tps)} tps${r.discarded ? ' (noisy, redone)' : ''}`)
          .join(
            ', ',
          )} → median ${fmt(report.reference.medianTps)}; ours/reference ${fmt(report.reference.ratio, 2)}`,
      );
    }
    for (const variant of VARIANTS) {
      const first = report.runs.find((r) => r.variant === variant && r.phase === 'measured');
      if (!first?.statements.length) continue;
      console.log(`\n${variant} statements per request (run ${first.round}):`);
      for (const st of first.statements) {
        console.log(`  ${st.perRequest.toFixed(2)}  ${fmt(st.usPerCall).padStart(5)} µs  ${st.query}`);
      }
      if (first.backgroundStatements) {
        console.log(
          `  (and ${first.backgroundStatements} background statements during the run, not counted)`,
        );
      }
    }
    console.log('\nchecks (SPEC §13):');
    for (const c of report.checks) {
      const verdict = c.pass === null ? 'n/a ' : c.pass ? 'PASS' : 'FAIL';
      console.log(
        `  ${verdict}  ${c.name}: ${fmt(c.value, c.value !== null && c.value < 10 ? 2 : 0)} (target ${c.target})`,
      );
    }
  }

  console.log(
    `\n══ summary: median of ${settings.rounds} interleaved closed-loop runs, ${settings.connections} connections, ` +
      `${settings.runSeconds} s each (${machine.cpus} × ${machine.cpuModel}) ══`,
  );
  console.log(
    table(
      [
        'workload',
        'ours req/s',
        `@${settings.manyConnections}`,
        'baseline',
        `@${settings.manyConnections}`,
        'ratio',
        'target',
        'node µs/req ours/base',
        'peer req/s',
        'ours/peer',
        'TPC-B tps',
        'ours/TPC-B',
        'stmt/req',
        'ours p99 @75 %',
        'target',
      ],
      reports.map((r) => {
        const f = r.summary.forgeline;
        const b = r.summary.baseline;
        const p = r.summary.peer;
        return [
          r.workload,
          fmt(f.medianRps),
          fmt(f.manyConnectionsRps),
          fmt(b.medianRps),
          fmt(b.manyConnectionsRps),
          fmt(r.ratio, 2),
          `≥ ${r.targets.ratio}`,
          `${fmt(f.serverCpuUsPerRequest)} / ${fmt(b.serverCpuUsPerRequest)}`,
          p ? fmt(p.medianRps) : '–',
          fmt(r.peerRatio, 2),
          r.reference ? fmt(r.reference.medianTps) : '–',
          r.reference ? fmt(r.reference.ratio, 2) : '–',
          fmt(f.statementsPerRequest, 2),
          f.openLoop ? fmt(f.openLoop.p99Ms, 1) : '–',
          `≤ ${r.targets.p99Ms}`,
        ];
      }),
    ),
  );
  // RSS saws up and down with V8's collections: compare the peaks of the first and second half of
  // the runs rather than two arbitrary points (SPEC: flat within ±10 % over a long run).
  const series = rss.forgeline.afterEachRun;
  const half = Math.floor(series.length / 2);
  const firstPeak = Math.max(0, ...series.slice(0, half));
  const secondPeak = Math.max(0, ...series.slice(half));
  const growth = firstPeak ? ((secondPeak - firstPeak) / firstPeak) * 100 : Number.NaN;
  console.log(
    `\nRSS Forgeline: ${fmt(rss.forgeline.afterStart)} MiB after start, ${fmt(rss.forgeline.end)} MiB at the end; ` +
      `peak ${fmt(firstPeak)} MiB over the first half of the runs, ${fmt(secondPeak)} MiB over the second ` +
      `(${growth >= 0 ? '+' : ''}${fmt(growth, 1)} %; a short run: use longer runs to judge flatness); ` +
      `baseline ${fmt(rss.baseline)} MiB at the end`,
  );
  console.log(`RSS Forgeline after each run (MiB): ${series.map((n) => fmt(n)).join(' ')}`);
  if (soak) {
    const flat = Math.abs(soak.growthPct) <= 10;
    console.log(
      `soak ${fmt(soak.seconds)} s at 75 % load: RSS ${fmt(soak.rssStartMiB)} MiB after the first slice, ` +
        `${fmt(soak.rssEndMiB)} MiB at the end (${soak.growthPct >= 0 ? '+' : ''}${fmt(soak.growthPct, 1)} %; ` +
        `peaks ${soak.peakGrowthPct >= 0 ? '+' : ''}${fmt(soak.peakGrowthPct, 1)} %) — ${flat ? 'PASS' : 'FAIL'} (±10 %); ` +
        `${soak.slices.reduce((n, s) => n + s.errors + s.non2xx, 0)} errors/non-2xx`,
    );
  }
  const load = (values: number[]) => values.map((v) => v.toFixed(2)).join(' ');
  const busiest = Math.max(
    0,
    ...reports.flatMap((r) => r.runs.map((run) => run.cpu.other / (run.durationSeconds || 1))),
  );
  console.log(
    `${fmt(machine.coresBusyBeforeStart, 2)} cores busy before the start; load average ${load(machine.loadAverage.atStart)} at start, ${load(machine.loadAverage.atEnd)} at the end; ` +
      `up to ${fmt(busiest, 2)} cores busy outside the measured processes during a run` +
      (busiest > 0.25 ? ' — a noisy machine: treat the numbers with care' : ''),
  );
}

try {
  await main();
} catch (error) {
  if (!interrupted) console.error('bench failed:', error);
  process.exitCode = 1;
} finally {
  await cleanup();
}
