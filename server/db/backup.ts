// Backups, two ways (db:backup, db:restore, db:backup:check and the daily `database-backup` job):
// - the embedded PostgreSQL: physical base backups + the WAL archive, point-in-time restore
//   (physical-backup.ts), with no client tools at all;
// - an external DATABASE_URL: pg_dump / pg_restore in the custom format. The client tools must be
//   at least the server's major version (pg_dump refuses a newer server): install that major's
//   client tools and point PG_BIN_DIR at them, or put them on PATH.
// Every restore ends with db:verify; the drill (db:backup:check) restores the latest backup
// somewhere temporary, verifies it there and throws it away.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Logger } from '../common/logger.ts';
import type { Config } from '../config.ts';
import { makeTempDir } from './embedded-postgres.ts';
import { archiveDirFor, createOrm, EMBEDDED_DATABASE } from './orm.ts';
import {
  type BaseBackup,
  listBaseBackups,
  newBackupName,
  pruneBaseBackups,
  readBaseBackup,
  restoreBaseBackup,
  restoreIntoScratch,
  takeBaseBackup,
} from './physical-backup.ts';
import { sql } from './sql.ts';
import { type Violation, verifyInvariants } from './verify.ts';

const run = promisify(execFile);

const tool = (name: 'pg_dump' | 'pg_restore') =>
  process.env.PG_BIN_DIR ? join(process.env.PG_BIN_DIR, name) : name;

async function majorOf(command: string): Promise<number> {
  try {
    const { stdout } = await run(command, ['--version']);
    return Number(/(\d+)(?:\.\d+)?/.exec(stdout)?.[1] ?? 0);
  } catch {
    throw new Error(`${command} was not found: install PostgreSQL's client tools or set PG_BIN_DIR`);
  }
}

async function serverMajor(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string }>("select current_setting('server_version_num') as v");
    return Math.floor(Number(rows[0]?.v) / 10_000);
  } finally {
    await client.end();
  }
}

async function checkTools(command: string, url: string) {
  const [client, server] = await Promise.all([majorOf(command), serverMajor(url)]);
  if (client < server) {
    throw new Error(
      `${command} ${client} cannot handle a PostgreSQL ${server} server: install PostgreSQL ${server}'s client tools (PG_BIN_DIR)`,
    );
  }
}

/** Writes a custom-format dump of the whole database to `file`. */
export async function backupDatabase(url: string, file: string): Promise<void> {
  await checkTools(tool('pg_dump'), url);
  mkdirSync(dirname(file), { recursive: true });
  await run(
    tool('pg_dump'),
    ['--format=custom', '--no-owner', '--no-privileges', `--file=${file}`, `--dbname=${url}`],
    {
      maxBuffer: 16 * 1024 * 1024,
    },
  );
}

/** Replaces the database's contents with the dump in `file` (one transaction). */
export async function restoreDatabase(url: string, file: string): Promise<void> {
  await checkTools(tool('pg_restore'), url);
  await run(
    tool('pg_restore'),
    [
      '--clean',
      '--if-exists',
      '--no-owner',
      '--no-privileges',
      '--single-transaction',
      '--exit-on-error',
      `--dbname=${url}`,
      file,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
}

/** Where and how this deployment's backups are made. */
export type BackupPlan =
  | { kind: 'physical'; url: string; dataDir: string; backupDir: string; archiveDir: string; keep: number }
  | { kind: 'dump'; url: string; backupDir: string; keep: number };

/** Physical for the embedded server (its data directory is ours), pg_dump for DATABASE_URL. */
export function backupPlanFor(config: Config, url: string): BackupPlan {
  const backupDir = resolve(config.backup.dir);
  if (config.databaseUrl) return { kind: 'dump', url, backupDir, keep: config.backup.keep };
  return {
    kind: 'physical',
    url,
    dataDir: resolve(config.dataDir, 'pg'),
    backupDir,
    archiveDir: archiveDirFor(config),
    keep: config.backup.keep,
  };
}

const DUMP_FILE = /^forgeline-.*\.dump$/;
const listDumps = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => DUMP_FILE.test(name))
        .sort()
        .map((name) => join(dir, name))
    : [];
const stamp = (at = new Date()) =>
  at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

export type BackupResult = { kind: BackupPlan['kind']; path: string; bytes: number; removed: string[] };

/**
 * Makes one backup now (the server keeps running), then keeps the newest `keep` (0 = keep all).
 * `file`: a dump's path (DATABASE_URL only; default `$BACKUP_DIR/forgeline-<time>.dump`).
 */
export async function backupNow(plan: BackupPlan, file?: string): Promise<BackupResult> {
  if (plan.kind === 'physical') {
    const backup = await takeBaseBackup({
      url: plan.url,
      dataDir: plan.dataDir,
      target: join(plan.backupDir, newBackupName()),
      archiveDir: plan.archiveDir,
    });
    const pruned = plan.keep > 0 ? pruneBaseBackups(plan.backupDir, plan.archiveDir, plan.keep) : null;
    return { kind: 'physical', path: backup.path, bytes: backup.bytes, removed: pruned?.backups ?? [] };
  }
  const path = resolve(file ?? join(plan.backupDir, `forgeline-${stamp()}.dump`));
  await backupDatabase(plan.url, path);
  const removed: string[] = [];
  if (plan.keep > 0 && dirname(path) === plan.backupDir) {
    const dumps = listDumps(plan.backupDir);
    for (const old of dumps.slice(0, Math.max(0, dumps.length - plan.keep))) {
      rmSync(old, { force: true });
      removed.push(old);
    }
  }
  return { kind: 'dump', path, bytes: statSync(path).size, removed };
}

/** A base backup named on the command line: a path, a name in BACKUP_DIR, or `latest`. */
export function findBaseBackup(plan: Extract<BackupPlan, { kind: 'physical' }>, which?: string, to?: string) {
  const backups = listBaseBackups(plan.backupDir);
  if (!which || which === 'latest') {
    // For a point in time, the newest backup that had finished by then.
    const candidates = to ? backups.filter((b) => Date.parse(b.finishedAt) <= Date.parse(to)) : backups;
    const chosen = candidates.at(-1);
    if (!chosen) {
      throw new Error(
        backups.length
          ? `no backup in ${plan.backupDir} had finished by ${to}`
          : `no base backups in ${plan.backupDir} (make one with npm run db:backup)`,
      );
    }
    return chosen;
  }
  return readBaseBackup(existsSync(which) ? which : join(plan.backupDir, which));
}

/**
 * A restore target time as PostgreSQL reads it. With a numeric offset (+02:00) or Z it is passed
 * as written (microseconds kept; Z as +00:00, since the server cannot read zone abbreviations at
 * start); without a zone it is this machine's local time, like the Date constructor.
 */
export function parseTargetTime(value: string): string {
  const trimmed = value.trim();
  const time = Date.parse(trimmed);
  if (Number.isNaN(time)) throw new Error(`--to: not a timestamp: ${value}`);
  if (/[+-]\d{2}(:?\d{2})?$/.test(trimmed) && /\d[T ]\d/.test(trimmed)) return trimmed;
  const utc = /z$/i.test(trimmed) ? trimmed : new Date(time).toISOString();
  return utc.replace(/z$/i, '+00:00');
}

export type VerifiedRestore = {
  violations: Violation[];
  counts: Record<string, number>;
};

async function verifyAt(url: string, config: Config, logger: Logger): Promise<VerifiedRestore> {
  const orm = await createOrm(url, config, logger);
  try {
    const em = orm.em.fork();
    const [counts] = await sql<Record<string, string>>(
      em,
      `select (select count(*) from users) as users, (select count(*) from credit_transactions) as ledger,
              (select count(*) from generations) as generations`,
    );
    return {
      violations: await verifyInvariants(em),
      counts: Object.fromEntries(Object.entries(counts ?? {}).map(([k, v]) => [k, Number(v)])),
    };
  } finally {
    await orm.close(true);
  }
}

/**
 * Restores the embedded database from a base backup (the server must be stopped), replaying the
 * archive up to `to` when given, then runs db:verify on the result.
 */
export async function restorePhysical(
  plan: Extract<BackupPlan, { kind: 'physical' }>,
  backup: BaseBackup,
  options: { to?: string; config: Config; logger: Logger },
): Promise<VerifiedRestore & { previous: string | null }> {
  const { server, previous } = await restoreBaseBackup(backup, plan.dataDir, {
    to: options.to,
    archiveDir: plan.archiveDir,
    onLog: (line) => options.logger.debug({ pg: line }),
  });
  try {
    return { ...(await verifyAt(server.url(EMBEDDED_DATABASE), options.config, options.logger)), previous };
  } finally {
    await server.stop();
  }
}

export type DrillResult = VerifiedRestore & { backup: string };

/**
 * The restore drill: the latest backup restored into a temporary cluster (base backup + the whole
 * archive) or a temporary database (a dump), db:verify there, then thrown away.
 */
export async function checkLatestBackup(
  plan: BackupPlan,
  config: Config,
  logger: Logger,
): Promise<DrillResult> {
  if (plan.kind === 'physical') {
    const backup = findBaseBackup(plan, 'latest');
    const scratch = makeTempDir('forgeline-backup-check-');
    try {
      const server = await restoreIntoScratch(backup, join(scratch, 'pg'), {
        archiveDir: plan.archiveDir,
        onLog: (line) => logger.debug({ pg: line }),
      });
      try {
        return { backup: backup.path, ...(await verifyAt(server.url(EMBEDDED_DATABASE), config, logger)) };
      } finally {
        await server.stop();
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  const file = listDumps(plan.backupDir).at(-1);
  if (!file) throw new Error(`no dumps in ${plan.backupDir} (make one with npm run db:backup)`);
  const database = `forgeline_check_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: plan.url });
  await admin.connect();
  try {
    await admin.query(`create database ${database}`);
    const url = new URL(plan.url);
    url.pathname = `/${database}`;
    await restoreDatabase(url.toString(), file);
    return { backup: file, ...(await verifyAt(url.toString(), config, logger)) };
  } finally {
    await admin.query(`drop database if exists ${database} with (force)`).catch(() => {});
    await admin.end();
  }
}
