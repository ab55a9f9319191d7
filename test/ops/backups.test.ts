// Physical backups and point-in-time recovery of the embedded PostgreSQL 18, with nothing but its
// own binaries: `db:backup` (the real command) attached to a running server under write load,
// more rows after it, `db:restore --to` a moment between them (refused while the server runs),
// exactly the rows before that moment come back and db:verify passes; the restore drill
// (`db:backup:check`); and the daily backup job keeping the last BACKUP_KEEP.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { backupPlanFor } from '../../server/db/backup.ts';
import { makeTempDir } from '../../server/db/embedded-postgres.ts';
import { type Database, openDatabase } from '../../server/db/orm.ts';
import { listBaseBackups } from '../../server/db/physical-backup.ts';
import { verifyInvariants } from '../../server/db/verify.ts';
import * as credits from '../../server/modules/credits/credits.service.ts';
import { createAccount } from '../../server/modules/identity/identity.service.ts';
import { QUEUES } from '../../server/modules/jobs/queue.ts';
import { ensureSettings } from '../../server/modules/settings/settings.service.ts';
import { startRuntime } from '../../server/runtime.ts';
import { createTestLogger } from '../support/logger.ts';
import { waitFor } from '../support/wait.ts';

const run = promisify(execFile);
const root = makeTempDir('forgeline-pitr-');
const env = { NODE_ENV: 'test', LOG_LEVEL: 'error', DATA_DIR: join(root, 'data'), BACKUP_KEEP: '2' };
const config = loadConfig(env);
const logger = createTestLogger();
const backupDir = join(root, 'data', 'backups');

/** Runs a db:* command as a user would (`npm run db:<command>`), against this test's DATA_DIR. */
async function cli(...argv: string[]) {
  try {
    const { stdout } = await run(process.execPath, ['server/db/cli.ts', ...argv], {
      env: { ...process.env, ...env, DATABASE_URL: '' },
    });
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: `${failed.stdout}${failed.stderr}` };
  }
}

let db: Database | null = null;
let userIds: string[] = [];

beforeAll(async () => {
  db = await openDatabase(config, logger, { migrate: true });
  await ensureSettings(db.orm.em.fork());
  userIds = [];
  for (const n of [1, 2, 3, 4]) {
    const user = await db.orm.em.fork().transactional((em) =>
      createAccount(em, {
        email: `pitr${n}@example.test`,
        password: 'correct horse battery',
        name: `P ${n}`,
      }),
    );
    userIds.push(user.id);
  }
}, 120_000);

afterAll(async () => {
  await db?.close();
  rmSync(root, { recursive: true, force: true });
});

const open = () => {
  if (!db) throw new Error('the database is not open');
  return db;
};

/** One ledger write: a grant, or a spend when there is enough (each its own transaction). */
async function write(n: number) {
  const userId = userIds[n % userIds.length] as string;
  await open()
    .orm.em.fork()
    .transactional(async (em) => {
      if (n % 3 === 2 && (await credits.balanceOf(em, userId)).balance >= 2) {
        await credits.spend(em, userId, 2, 'text_generation');
      } else {
        await credits.grant(em, userId, 3, 'promo');
      }
    });
}

/** `writers` concurrent loops writing until `until` resolves; returns how many writes committed. */
async function writeUntil(until: Promise<unknown>, writers = 4): Promise<number> {
  let done = false;
  let written = 0;
  void until.finally(() => {
    done = true;
  });
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; !done; i++) {
        await write(w * 1000 + i);
        written++;
      }
    }),
  );
  return written;
}

const ledgerIds = async (database: Database) =>
  (
    await database.orm.em.fork().execute<{ id: string }[]>('select id from credit_transactions order by id')
  ).map((row) => row.id);

describe('physical backups and point-in-time recovery', () => {
  it('the daily backup job makes a base backup and keeps the last BACKUP_KEEP', async () => {
    const database = open();
    const runtime = await startRuntime({
      orm: database.orm,
      databaseUrl: database.url,
      config,
      logger,
      superviseIntervalSeconds: 1,
      backupPlan: backupPlanFor(config, database.url),
    });
    try {
      await runtime.startWorkers();
      // The schedule is registered for the night; here the job is sent as the cron would send it.
      for (const round of [1, 2, 3]) {
        await write(round);
        const jobId = await runtime.jobs.boss.send(QUEUES.databaseBackup, {});
        await waitFor(
          async () =>
            (await runtime.jobs.boss.getJobById(QUEUES.databaseBackup, jobId as string))?.state ===
            'completed',
          { timeoutMs: 120_000, intervalMs: 200, what: `backup job ${round}` },
        );
      }
      const schedules = await runtime.jobs.boss.getSchedules();
      expect(schedules.map((schedule) => schedule.name)).toContain(QUEUES.databaseBackup);
    } finally {
      await runtime.stop();
    }
    const backups = listBaseBackups(backupDir);
    expect(backups).toHaveLength(2); // BACKUP_KEEP=2: the first was removed
    // The archive keeps what the oldest kept backup needs, and nothing older.
    const oldest = backups[0]?.startWalFile.slice(8) as string;
    const archived = readdirSync(join(backupDir, 'wal')).filter((name) => /^[0-9A-F]{24}\.gz$/.test(name));
    expect(archived.length).toBeGreaterThan(0);
    expect(archived.every((name) => name.slice(8) >= oldest)).toBe(true);
  }, 300_000);

  it('restores to a moment between a backup taken under load and the rows written after it', async () => {
    const database = open();
    // db:backup (the command) attaches to this running server while four writers keep writing.
    const backup = cli('backup');
    const duringBackup = await writeUntil(backup);
    const made = await backup;
    expect(made.output).toMatch(/base backup written to .*base-\d{8}T\d{6}Z/);
    expect(made.output).toContain('the database db:verify is clean');
    expect(made.code).toBe(0);
    expect(duringBackup).toBeGreaterThan(0);
    console.info(`db:backup under load: ${duringBackup} ledger writes committed while it ran`);

    // Rows after the backup, then a quiet moment T, then more rows.
    for (let i = 0; i < 30; i++) await write(i);
    const [{ at }] = (await database.orm.em
      .fork()
      .execute(
        `select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at`,
      )) as [{ at: string }];
    const beforeT = await ledgerIds(database);
    await Promise.all(Array.from({ length: 20 }, (_, i) => write(i)));
    expect((await ledgerIds(database)).length).toBe(beforeT.length + 20);

    const refused = await cli('restore', '--to', at);
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/is running on .*stop the server/);

    await database.close();
    db = null;
    // A moment the archive cannot reach fails, and puts the data directory back as it was.
    const unreachable = await cli('restore', '--to', new Date(Date.now() + 86_400_000).toISOString());
    expect(unreachable.code).not.toBe(0);
    expect(unreachable.output).toMatch(/the restore failed and .* was put back as it was/);
    expect(readdirSync(join(root, 'data')).some((name) => name.startsWith('pg.before-restore-'))).toBe(false);

    const restored = await cli('restore', '--to', at);
    expect(restored.output).toContain(`to ${at.replace('Z', '+00:00')}`);
    expect(restored.output).toMatch(/db:verify is clean/);
    expect(restored.code).toBe(0);
    expect(readdirSync(join(root, 'data')).some((name) => name.startsWith('pg.before-restore-'))).toBe(true);

    db = await openDatabase(config, logger);
    expect(await ledgerIds(db)).toEqual(beforeT);
    expect(await verifyInvariants(db.orm.em.fork())).toEqual([]);
    // The restored server is a normal primary again: it takes writes, on a new timeline.
    await write(7);
    expect((await ledgerIds(db)).length).toBe(beforeT.length + 1);
  }, 300_000);

  it('db:backup:check restores the latest backup into a temporary cluster and verifies it', async () => {
    // The drill's promoted scratch server archives nothing: no new backup, no new timeline.
    const kept = () => [
      ...readdirSync(backupDir).filter((name) => name.startsWith('base-')),
      ...readdirSync(join(backupDir, 'wal')).filter((name) => name.endsWith('.history.gz')),
    ];
    const before = kept();
    const check = await cli('backup:check');
    expect(check.output).toMatch(/restored .*base-.* into a temporary cluster: 4 users, \d+ ledger/);
    expect(check.output).toContain('backup check: db:verify is clean');
    expect(check.code).toBe(0);
    expect(kept()).toEqual(before);
    expect(existsSync(join(root, 'data', 'pg', 'postmaster.pid'))).toBe(true); // the server still runs
  }, 180_000);
});
