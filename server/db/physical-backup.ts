// Physical backups of the embedded PostgreSQL with PostgreSQL's own mechanisms, no client tools:
// - continuous WAL archiving (archive_mode=on, archive_command copying each finished segment into
//   `$BACKUP_DIR/wal`, gzipped; see embedded-postgres.ts);
// - base backups through the low-level API: on one held connection `pg_backup_start`, a copy of
//   the data directory (what PostgreSQL's own base backup leaves out is left out), then
//   `pg_backup_stop`, whose backup_label (and tablespace_map) go into the copy. The WAL segments
//   the copy needs to be consistent are copied in too, so a backup restores on its own;
// - restore: the copy becomes the data directory, `recovery.signal` + `restore_command` replay the
//   archive, up to `recovery_target_time` when asked, and the server promotes itself.
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import pg from 'pg';
import {
  type EmbeddedPostgres,
  livePostmaster,
  ownerOf,
  passwordFileFor,
  postgresRuntime,
  recoverStaleLock,
  restoreCommand,
  startEmbeddedPostgres,
} from './embedded-postgres.ts';

export const MANIFEST = 'forgeline-backup.json';
const PASSWORD_FILE = 'superuser.password';
export const BASE_PREFIX = 'base-';

export type BaseBackupManifest = {
  format: 'forgeline-base-backup/1';
  name: string;
  label: string;
  /** When pg_backup_start returned / pg_backup_stop returned (ISO, the server's clock). */
  startedAt: string;
  finishedAt: string;
  startLsn: string;
  stopLsn: string;
  startWalFile: string;
  stopWalFile: string;
  serverVersion: string;
  systemIdentifier: string;
  bytes: number;
};

export type BaseBackup = BaseBackupManifest & { path: string };

// What PostgreSQL's own base backup leaves out (src/backend/backup/basebackup.c): runtime state,
// and directories whose contents are rebuilt at start (kept, empty).
const SKIP_FILES = new Set([
  'postmaster.pid',
  'postmaster.opts',
  'backup_label',
  'tablespace_map',
  'backup_manifest',
  'postgresql.auto.conf.tmp',
  'current_logfiles.tmp',
  'standby.signal',
  'recovery.signal',
]);
const EMPTY_DIRS = new Set([
  'pg_wal',
  'pg_replslot',
  'pg_dynshmem',
  'pg_notify',
  'pg_serial',
  'pg_snapshots',
  'pg_stat_tmp',
  'pg_subtrans',
]);
const WAL_FILE = /^[0-9A-F]{24}$/;

/** Copies a live data directory: files may vanish (dropped tables, temp files) while we copy. */
function copyTree(source: string, target: string, top: boolean, sizes: { bytes: number }): void {
  mkdirSync(target, { recursive: true, mode: 0o700 });
  let entries: string[];
  try {
    entries = readdirSync(source);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const name of entries) {
    if (top && SKIP_FILES.has(name)) continue;
    if (top && name === 'global') continue; // copied last, for pg_control
    if (name.startsWith('pgsql_tmp') || name.startsWith('pg_internal.init')) continue;
    const from = join(source, name);
    const to = join(target, name);
    try {
      const stat = lstatSync(from);
      if (stat.isSymbolicLink()) {
        symlinkSync(readlinkSync(from), to);
      } else if (stat.isDirectory()) {
        if (top && EMPTY_DIRS.has(name)) mkdirSync(to, { mode: 0o700 });
        else copyTree(from, to, false, sizes);
      } else if (stat.isFile()) {
        copyFileSync(from, to);
        sizes.bytes += stat.size;
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/** The 8-byte system identifier at the start of global/pg_control (which cluster a directory is). */
export function systemIdentifierOf(dataDir: string): string | null {
  try {
    return readFileSync(join(dataDir, 'global', 'pg_control'))
      .readBigUInt64LE(0)
      .toString();
  } catch {
    return null;
  }
}

/** A WAL file's position ignoring its timeline (the last 16 hex digits), for ordering. */
const segmentOf = (walFile: string) => walFile.slice(8, 24);

/**
 * Takes a base backup of the running server whose data directory is `dataDir` (on this machine)
 * into `target` (a new directory). `url` must connect as a superuser. WAL the copy needs comes from
 * `archiveDir` when the server archives (pg_backup_stop waits for that), else from its pg_wal.
 */
export async function takeBaseBackup(options: {
  url: string;
  dataDir: string;
  target: string;
  archiveDir?: string;
  label?: string;
}): Promise<BaseBackup> {
  const dataDir = resolve(options.dataDir);
  const target = resolve(options.target);
  if (existsSync(target)) throw new Error(`${target} already exists`);
  const partial = `${target}.partial-${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: options.url, application_name: 'forgeline-backup' });
  await client.connect();
  let started = false;
  try {
    const { rows: facts } = await client.query<{
      data_directory: string;
      in_recovery: boolean;
      version: string;
      archive_mode: string;
      system_identifier: string;
    }>(
      `select current_setting('data_directory') as data_directory, pg_is_in_recovery() as in_recovery,
              current_setting('server_version') as version, current_setting('archive_mode') as archive_mode,
              (select system_identifier::text from pg_control_system()) as system_identifier`,
    );
    const fact = facts[0];
    if (!fact) throw new Error('could not read the server settings');
    if (resolve(fact.data_directory) !== dataDir) {
      throw new Error(`the server's data directory is ${fact.data_directory}, not ${dataDir}`);
    }
    if (fact.in_recovery) throw new Error('take base backups from the primary, not a standby');
    const archiving = fact.archive_mode !== 'off' && options.archiveDir !== undefined;

    const label = options.label ?? basename(target);
    const { rows: begin } = await client.query<{ lsn: string; wal: string; at: Date }>(
      'select lsn::text as lsn, pg_walfile_name(lsn) as wal, clock_timestamp() as at from pg_backup_start($1, true) as lsn',
      [label],
    );
    started = true;
    const sizes = { bytes: 0 };
    copyTree(dataDir, partial, true, sizes);
    copyTree(join(dataDir, 'global'), join(partial, 'global'), false, sizes); // pg_control last
    // wait_for_archive: returns once the last segment the backup needs is in the archive.
    const { rows: end } = await client.query<{
      lsn: string;
      wal: string;
      labelfile: string;
      spcmapfile: string;
      at: Date;
    }>(
      `select lsn::text as lsn, pg_walfile_name(lsn) as wal, labelfile, spcmapfile, clock_timestamp() as at
         from pg_backup_stop(true)`,
    );
    started = false;
    const [first, last] = [begin[0], end[0]];
    if (!first || !last) throw new Error('pg_backup_start/pg_backup_stop returned nothing');
    writeFileSync(join(partial, 'backup_label'), last.labelfile, { mode: 0o600 });
    if (last.spcmapfile) writeFileSync(join(partial, 'tablespace_map'), last.spcmapfile, { mode: 0o600 });

    // The segments from the start to the stop of the backup: enough to reach consistency alone.
    // From the archive (gzipped) when the server archives, else from its pg_wal.
    const walSource = archiving ? resolve(options.archiveDir as string) : join(dataDir, 'pg_wal');
    const walName = (file: string) => (archiving ? file.replace(/\.gz$/, '') : file);
    const timeline = first.wal.slice(0, 8);
    const needed = readdirSync(walSource).filter((file) => {
      const name = walName(file);
      if (archiving && !file.endsWith('.gz')) return false;
      return (
        (WAL_FILE.test(name) &&
          name.startsWith(timeline) &&
          segmentOf(name) >= segmentOf(first.wal) &&
          segmentOf(name) <= segmentOf(last.wal)) ||
        name.endsWith('.history')
      );
    });
    const names = needed.map(walName);
    if (!names.includes(last.wal) || !names.includes(first.wal)) {
      throw new Error(`the WAL the backup needs (${first.wal}…${last.wal}) is missing from ${walSource}`);
    }
    for (const file of needed) {
      const target = join(partial, 'pg_wal', walName(file));
      if (archiving) writeFileSync(target, gunzipSync(readFileSync(join(walSource, file))), { mode: 0o600 });
      else copyFileSync(join(walSource, file), target);
      sizes.bytes += statSync(target).size;
    }

    const manifest: BaseBackupManifest = {
      format: 'forgeline-base-backup/1',
      name: basename(target),
      label,
      startedAt: first.at.toISOString(),
      finishedAt: last.at.toISOString(),
      startLsn: first.lsn,
      stopLsn: last.lsn,
      startWalFile: first.wal,
      stopWalFile: last.wal,
      serverVersion: fact.version,
      systemIdentifier: fact.system_identifier,
      bytes: sizes.bytes,
    };
    writeFileSync(join(partial, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    const passwordFile = passwordFileFor(dataDir);
    if (existsSync(passwordFile)) copyFileSync(passwordFile, join(partial, PASSWORD_FILE));
    renameSync(partial, target);
    return { ...manifest, path: target };
  } catch (error) {
    if (started) await client.query('select pg_backup_stop(false)').catch(() => {});
    rmSync(partial, { recursive: true, force: true });
    throw error;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The base backups in `backupDir`, oldest first. */
export function listBaseBackups(backupDir: string): BaseBackup[] {
  if (!existsSync(backupDir)) return [];
  return readdirSync(backupDir)
    .filter((name) => name.startsWith(BASE_PREFIX) && existsSync(join(backupDir, name, MANIFEST)))
    .map((name) => {
      const manifest = JSON.parse(
        readFileSync(join(backupDir, name, MANIFEST), 'utf8'),
      ) as BaseBackupManifest;
      return { ...manifest, path: resolve(backupDir, name) };
    })
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

/** Reads the backup at `path` (a base backup directory). */
export function readBaseBackup(path: string): BaseBackup {
  const file = join(path, MANIFEST);
  if (!existsSync(file)) throw new Error(`${path} is not a base backup (no ${MANIFEST})`);
  return { ...(JSON.parse(readFileSync(file, 'utf8')) as BaseBackupManifest), path: resolve(path) };
}

/**
 * Keeps the newest `keep` base backups, and the archived WAL from the oldest one kept onwards
 * (timeline history files always stay). Returns what was removed.
 */
export function pruneBaseBackups(
  backupDir: string,
  archiveDir: string,
  keep: number,
): { backups: string[]; walFiles: number } {
  const backups = listBaseBackups(backupDir);
  const removed = backups.slice(0, Math.max(0, backups.length - Math.max(keep, 1)));
  for (const backup of removed) rmSync(backup.path, { recursive: true, force: true });
  const oldest = backups[removed.length];
  let walFiles = 0;
  if (oldest && existsSync(archiveDir)) {
    for (const name of readdirSync(archiveDir)) {
      if (name.includes('.history') || !/^[0-9A-F]{24}/.test(name)) continue;
      if (segmentOf(name) < segmentOf(oldest.startWalFile)) {
        rmSync(join(archiveDir, name), { force: true });
        walFiles++;
      }
    }
  }
  return { backups: removed.map((backup) => backup.name), walFiles };
}

/** A name for a new base backup: `base-20250131T024000Z` (sortable, unique per second). */
export function newBackupName(at = new Date()): string {
  return `${BASE_PREFIX}${at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}`;
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (!lstatSync(path).isDirectory()) return;
  for (const name of readdirSync(path)) chownTree(join(path, name), uid, gid);
}

/**
 * Lays `backup` out as the data directory `dataDir` ready for archive recovery (recovery.signal),
 * with the backup's superuser password beside it. `previousWalDir`: segments of the cluster being
 * replaced that may not have reached the archive (PostgreSQL's restore procedure copies them in).
 */
async function layOut(backup: BaseBackup, dataDir: string, previousWalDir?: string): Promise<void> {
  const { ids } = await postgresRuntime(dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const extras = new Set([join(backup.path, MANIFEST), join(backup.path, PASSWORD_FILE)]);
  cpSync(backup.path, dataDir, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (from) => !extras.has(from),
  });
  mkdirSync(join(dataDir, 'pg_wal', 'archive_status'), { recursive: true, mode: 0o700 });
  if (previousWalDir && existsSync(previousWalDir)) {
    for (const name of readdirSync(previousWalDir)) {
      const target = join(dataDir, 'pg_wal', name);
      if ((WAL_FILE.test(name) || name.endsWith('.history')) && !existsSync(target)) {
        copyFileSync(join(previousWalDir, name), target);
      }
    }
  }
  writeFileSync(join(dataDir, 'recovery.signal'), '');
  const password = join(backup.path, PASSWORD_FILE);
  if (existsSync(password)) copyFileSync(password, passwordFileFor(dataDir));
  chmodSync(dataDir, 0o700);
  if (ids.uid !== undefined && ids.gid !== undefined) chownTree(dataDir, ids.uid, ids.gid);
}

export type RecoveryOptions = {
  /** Replay WAL up to this moment (recovery_target_time; a string PostgreSQL reads as timestamptz). */
  to?: string;
  archiveDir: string;
  onLog?: (line: string) => void;
};

/**
 * Starts a server on a data directory laid out for recovery: it replays the archive (up to the
 * target time, if any), promotes itself and accepts connections. `archiveDir` is read; new WAL
 * of the promoted server is archived there only when `keepArchiving` is set.
 */
async function recover(
  dataDir: string,
  options: RecoveryOptions & { keepArchiving: boolean },
): Promise<EmbeddedPostgres> {
  return startEmbeddedPostgres({
    dir: dataDir,
    onLog: options.onLog,
    archiveDir: options.keepArchiving ? options.archiveDir : undefined,
    settings: {
      restore_command: restoreCommand(options.archiveDir),
      recovery_target_action: 'promote',
      ...(options.to ? { recovery_target_time: options.to } : {}),
    },
  });
}

/**
 * Restores `backup` into `dataDir` (refused while a server runs on it). The directory in place is
 * moved aside to `<dataDir>.before-restore-<time>` (delete it once satisfied); its unarchived WAL
 * is offered to recovery. Returns the recovered, promoted server, still running (the caller checks
 * it and stops it) and where the old directory went.
 */
export async function restoreBaseBackup(
  backup: BaseBackup,
  dataDir: string,
  options: RecoveryOptions,
): Promise<{ server: EmbeddedPostgres; previous: string | null }> {
  dataDir = resolve(dataDir);
  const running = livePostmaster(dataDir);
  if (running) {
    throw new Error(
      `PostgreSQL (pid ${running.pid}) is running on ${dataDir}: stop the server (and anything using it) before restoring`,
    );
  }
  if (options.to && Date.parse(options.to) < Date.parse(backup.finishedAt)) {
    throw new Error(
      `${backup.name} finished at ${backup.finishedAt}: it cannot be restored to an earlier time; choose an older backup`,
    );
  }
  let previous: string | null = null;
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    previous = `${dataDir}.before-restore-${new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}`;
    renameSync(dataDir, previous);
    if (existsSync(passwordFileFor(dataDir)))
      copyFileSync(passwordFileFor(dataDir), passwordFileFor(previous));
  }
  // WAL of another cluster (a directory re-initialised since) would stop recovery: offer only ours.
  const sameCluster = previous !== null && systemIdentifierOf(previous) === backup.systemIdentifier;
  try {
    await layOut(backup, dataDir, sameCluster && previous ? join(previous, 'pg_wal') : undefined);
    const server = await recover(dataDir, { ...options, keepArchiving: true });
    return { server, previous };
  } catch (error) {
    // A restore that did not finish (a target the archive cannot reach…) leaves things as they were.
    rmSync(dataDir, { recursive: true, force: true });
    if (previous) {
      renameSync(previous, dataDir);
      if (existsSync(passwordFileFor(previous)))
        renameSync(passwordFileFor(previous), passwordFileFor(dataDir));
    }
    throw new Error(
      `the restore failed${previous ? ` and ${dataDir} was put back as it was` : ''}: ${(error as Error).message}`,
    );
  }
}

/**
 * Restores `backup` into a new temporary data directory `dataDir` and replays the whole archive
 * (the restore drill): the promoted server archives nothing, so the real archive stays untouched.
 */
export async function restoreIntoScratch(
  backup: BaseBackup,
  dataDir: string,
  options: RecoveryOptions,
): Promise<EmbeddedPostgres> {
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) throw new Error(`${dataDir} is not empty`);
  mkdirSync(dirname(resolve(dataDir)), { recursive: true });
  await layOut(backup, resolve(dataDir));
  return recover(resolve(dataDir), { ...options, keepArchiving: false });
}

/**
 * Makes `dataDir` a streaming-replication hot standby of the primary at `primaryUrl` (whose data
 * directory `primaryDataDir` is on this machine): a base backup of the primary copied straight into
 * `dataDir`, `standby.signal`, and the primary's connection as `primary_conninfo` (in the
 * standby's postgresql.auto.conf, as `pg_basebackup -R` writes it). WAL that streaming no longer
 * finds on the primary is read from its archive (`restore_command`).
 */
export async function makeStandby(options: {
  primaryUrl: string;
  primaryDataDir: string;
  archiveDir?: string;
  dataDir: string;
  /** The name the standby's stream shows in pg_stat_replication. */
  applicationName?: string;
}): Promise<BaseBackup> {
  const dataDir = resolve(options.dataDir);
  const owner = ownerOf(dataDir);
  if (livePostmaster(dataDir) && owner !== null) {
    throw new Error(`process ${owner} runs a PostgreSQL server on ${dataDir}; stop it first`);
  }
  await recoverStaleLock(dataDir, () => {}); // a standby an earlier crashed run left behind
  rmSync(dataDir, { recursive: true, force: true });
  const backup = await takeBaseBackup({
    url: options.primaryUrl,
    dataDir: options.primaryDataDir,
    target: dataDir,
    archiveDir: options.archiveDir,
    label: 'forgeline standby',
  });
  // As pg_basebackup -R does: the connection to the primary goes into postgresql.auto.conf (not
  // the command line, where `ps` would show its password).
  const primary = new URL(options.primaryUrl);
  const conninfo = [
    `host=${primary.hostname}`,
    `port=${primary.port || 5432}`,
    `user=${decodeURIComponent(primary.username)}`,
    `password=${decodeURIComponent(primary.password)}`,
    `application_name=${options.applicationName ?? 'forgeline_standby'}`,
  ].join(' ');
  const conf = (value: string) => `'${value.replaceAll("'", "''")}'`;
  const settings = [
    `primary_conninfo = ${conf(conninfo)}`,
    ...(options.archiveDir ? [`restore_command = ${conf(restoreCommand(options.archiveDir))}`] : []),
  ];
  await layOutStandby(dataDir, settings);
  return backup;
}

async function layOutStandby(dataDir: string, settings: string[]): Promise<void> {
  const { ids } = await postgresRuntime(dataDir);
  const password = join(dataDir, PASSWORD_FILE);
  if (existsSync(password)) renameSync(password, passwordFileFor(dataDir));
  rmSync(join(dataDir, MANIFEST), { force: true });
  mkdirSync(join(dataDir, 'pg_wal', 'archive_status'), { recursive: true, mode: 0o700 });
  const autoConf = join(dataDir, 'postgresql.auto.conf');
  const existing = existsSync(autoConf) ? readFileSync(autoConf, 'utf8') : '';
  writeFileSync(autoConf, `${existing}${settings.join('\n')}\n`, { mode: 0o600 });
  writeFileSync(join(dataDir, 'standby.signal'), '');
  chmodSync(dataDir, 0o700);
  if (ids.uid !== undefined && ids.gid !== undefined) chownTree(dataDir, ids.uid, ids.gid);
}
