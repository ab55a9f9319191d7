// `npm run cluster [-- --api 2 --workers 2] [--json] [--no-client-build]`: the scale-out path
// rehearsed on one machine, from the embedded binaries alone.
//
//   primary   the embedded PostgreSQL in $DATA_DIR/pg (archiving its WAL, supervised by this process)
//   standby   a streaming-replication hot standby in $DATA_DIR/pg-standby, made fresh at every start
//             from a base backup of the primary (the low-level API of physical-backup.ts), with
//             standby.signal and primary_conninfo; read by the API processes as their read replica
//   api-N     `server/main.ts` processes (RUN_WORKER=false) behind Node's own balancer: node:cluster,
//             whose primary (this process) accepts on PORT and hands connections round-robin to them
//   worker-N  `server/worker.ts` processes running the jobs
//
// Children find the primary as `npm run worker` finds `npm start`'s database: they attach to the
// embedded server this process runs (DATA_DIR). A child that dies is started again (1 s later);
// SIGINT/SIGTERM stop the children (each drains), then the standby, then the primary. `--json`
// prints one JSON event per line on stdout (children's output goes to stderr): what the
// rehearsal test reads.

import { type ChildProcess, spawn } from 'node:child_process';
import cluster, { type Worker as ClusterWorker } from 'node:cluster';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLIENT_DIST, ROOT_DIR } from './app.ts';
import { createLogger } from './common/logger.ts';
import { ConfigError, loadConfig } from './config.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './db/embedded-postgres.ts';
import { archiveDirFor, EMBEDDED_DATABASE, openDatabase } from './db/orm.ts';
import { makeStandby } from './db/physical-backup.ts';
import { seedDatabase } from './db/seed.ts';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const count = (name: string, fallback: number) => {
  const index = argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1 || value > 16) {
    console.error(`--${name} takes a number from 1 to 16`);
    process.exit(2);
  }
  return value;
};
const apiCount = count('api', 2);
const workerCount = count('workers', 2);
const json = flag('json');
/** Both servers allow this many connections (a hot standby needs at least the primary's). */
const MAX_CONNECTIONS = 300;
const RESTART_DELAY_MS = 1_000;

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}
if (config.databaseUrl) {
  console.error('npm run cluster rehearses on the embedded PostgreSQL: unset DATABASE_URL');
  process.exit(2);
}
const logger = createLogger(config.logLevel);

function emit(event: Record<string, unknown>, human: string) {
  if (json) process.stdout.write(`${JSON.stringify(event)}\n`);
  else console.log(`  ${human}`);
}

let stopping = false;
let standby: EmbeddedPostgres | null = null;

const db = await openDatabase(config, logger, {
  serverSettings: { max_connections: MAX_CONNECTIONS },
  onDatabaseLost: () => void shutdown('primary lost', 1),
}).catch((error: unknown) => {
  logger.fatal({ err: error }, 'could not start the primary');
  process.exit(1);
});
const embedded = db.embedded as EmbeddedPostgres;
const { admin } = await seedDatabase(db.orm, logger);
if (admin && !json) console.log(`\n  Demo admin account (shown once): ${admin.email} / ${admin.password}\n`);

if (!flag('no-client-build') && !existsSync(join(CLIENT_DIST, 'index.html'))) {
  logger.info('building the client (first start)');
  const { build } = await import('vite');
  await build({ configFile: join(ROOT_DIR, 'client', 'vite.config.ts'), logLevel: 'warn' });
}

// The standby: a fresh base backup of the primary, then streaming.
const standbyDir = resolve(config.dataDir, 'pg-standby');
const primaryDir = resolve(config.dataDir, 'pg');
await makeStandby({
  primaryUrl: embedded.url('postgres'),
  primaryDataDir: primaryDir,
  archiveDir: archiveDirFor(config),
  dataDir: standbyDir,
});
standby = await startEmbeddedPostgres({
  dir: standbyDir,
  standby: true,
  settings: { max_connections: MAX_CONNECTIONS },
  onLog: (line) => logger.debug({ pg: line, server: 'standby' }),
  supervise: {
    maxRestarts: config.embeddedRestarts,
    onDown: (reason) => logger.error({ reason }, 'the standby stopped; restarting it'),
    onUp: () => logger.warn('the standby is back'),
    onGiveUp: (error) => logger.error({ err: error }, 'the standby stays down; replica reads will fail'),
  },
});
const standbyUrl = standby.url(EMBEDDED_DATABASE);

type Slot = { name: string; pid: number | null; crashes: number[]; stop?: () => void };
const apiSlots: Slot[] = Array.from({ length: apiCount }, (_, i) => ({
  name: `api-${i + 1}`,
  pid: null,
  crashes: [],
}));
const workerSlots: Slot[] = Array.from({ length: workerCount }, (_, i) => ({
  name: `worker-${i + 1}`,
  pid: null,
  crashes: [],
}));
const childOutput = json ? 2 : 'inherit';
const childEnv = (name: string, extra: Record<string, string>) => ({
  ...process.env,
  DATABASE_URL: '',
  INSTANCE_NAME: name,
  ...extra,
});

/** A child that died unexpectedly: started again, unless it keeps dying (then the cluster stops). */
function onChildExit(
  slot: Slot,
  start: (slot: Slot) => Promise<void>,
  code: number | null,
  signal: string | null,
) {
  const pid = slot.pid;
  slot.pid = null;
  emit(
    { event: 'exit', name: slot.name, pid, code, signal },
    `${slot.name} (pid ${pid}) exited (${signal ?? code})`,
  );
  if (stopping) return;
  const now = Date.now();
  slot.crashes = [...slot.crashes.filter((at) => now - at < 60_000), now];
  if (slot.crashes.length > 5) {
    void shutdown(`${slot.name} keeps dying`, 1);
    return;
  }
  setTimeout(() => {
    if (!stopping) void start(slot);
  }, RESTART_DELAY_MS);
}

cluster.setupPrimary({
  exec: join(ROOT_DIR, 'server', 'main.ts'),
  args: ['--no-client-build'],
  stdio: ['ignore', childOutput, 'inherit', 'ipc'],
});

function startApi(slot: Slot): Promise<void> {
  const worker: ClusterWorker = cluster.fork(
    childEnv(slot.name, {
      RUN_WORKER: 'false',
      DATABASE_REPLICA_URLS: standbyUrl,
      PGPOOL_MAX: process.env.PGPOOL_MAX ?? '20',
    }),
  );
  slot.pid = worker.process.pid ?? null;
  slot.stop = () => worker.process.kill('SIGTERM');
  worker.once('exit', (code, signal) => onChildExit(slot, startApi, code, signal));
  return new Promise((ready) => {
    worker.once('listening', () => {
      emit(
        { event: 'started', name: slot.name, pid: slot.pid },
        `${slot.name} (pid ${slot.pid}) is listening`,
      );
      ready();
    });
    worker.once('exit', () => ready());
  });
}

function startWorker(slot: Slot): Promise<void> {
  const child: ChildProcess = spawn(process.execPath, [join(ROOT_DIR, 'server', 'worker.ts')], {
    env: childEnv(slot.name, { PGPOOL_MAX: process.env.PGPOOL_MAX ?? '10' }),
    // The IPC channel only tells the worker when this process is gone (it then stops too).
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  slot.pid = child.pid ?? null;
  slot.stop = () => child.kill('SIGTERM');
  child.once('exit', (code, signal) => onChildExit(slot, startWorker, code, signal));
  return new Promise((ready) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      (json ? process.stderr : process.stdout).write(chunk);
      if (chunk.toString().includes('worker ready')) {
        emit({ event: 'started', name: slot.name, pid: slot.pid }, `${slot.name} (pid ${slot.pid}) is ready`);
        ready();
      }
    });
    child.once('exit', () => ready());
  });
}

await Promise.all([...apiSlots.map(startApi), ...workerSlots.map(startWorker)]);
const url = config.publicUrl;
emit(
  {
    event: 'ready',
    url,
    port: config.port,
    primary: {
      port: embedded.port,
      pid: embedded.pid(),
      url: embedded.url(EMBEDDED_DATABASE),
      dir: primaryDir,
    },
    standby: { port: standby.port, pid: standby.pid(), url: standbyUrl, dir: standbyDir },
    api: apiSlots.map(({ name, pid }) => ({ name, pid })),
    workers: workerSlots.map(({ name, pid }) => ({ name, pid })),
    admin,
  },
  `\n  Forgeline cluster is running at ${url}\n` +
    `    primary PostgreSQL :${embedded.port} → hot standby :${standby.port} (streaming; the API's read replica)\n` +
    `    ${apiCount} API processes (node:cluster round-robin on :${config.port}), ${workerCount} job workers\n`,
);

async function shutdown(reason: string, code = 0) {
  if (stopping) return;
  stopping = true;
  logger.info({ reason }, 'stopping the cluster');
  const children = [...apiSlots, ...workerSlots].filter((slot) => slot.pid !== null);
  await Promise.all(
    children.map(
      (slot) =>
        new Promise<void>((done) => {
          const pid = slot.pid as number;
          const check = setInterval(() => {
            if (slot.pid === null) {
              clearInterval(check);
              clearTimeout(force);
              done();
            }
          }, 100);
          const force = setTimeout(() => {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // gone
            }
          }, 20_000);
          slot.stop?.();
        }),
    ),
  );
  await standby?.stop();
  await db.close();
  emit({ event: 'stopped', reason }, `cluster stopped (${reason})`);
  process.exit(code);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
