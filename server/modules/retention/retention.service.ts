// Retention (spec §7): soft-deletes generations older than GENERATION_RETENTION_DAYS, purges files
// soft-deleted longer than the grace period, deletes expired sessions and email tokens. Every step works in bounded
// batches, each its own short transaction with SKIP LOCKED, so it never holds long locks.
// The ledger is never touched.
import type { MikroORM } from '@mikro-orm/postgresql';
import { purgeDeletedFiles } from '../storage/storage.service.ts';
import type { StorageDriver } from '../storage/storage-driver.ts';

export const FILE_PURGE_GRACE_DAYS = 7;
const DAY_MS = 24 * 60 * 60 * 1000;

export type RetentionReport = {
  generationsSoftDeleted: number;
  filesPurged: number;
  sessionsDeleted: number;
  tokensDeleted: number;
  rateLimitWindowsDeleted: number;
};

async function inBatches(orm: MikroORM, sql: string, params: unknown[], batchSize: number): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = await orm.em
      .fork()
      .transactional((em) => em.execute<{ id: string }[]>(sql, [...params, batchSize]));
    total += rows.length;
    if (rows.length < batchSize) return total;
  }
}

export async function runRetention(
  deps: { orm: MikroORM; storage: StorageDriver },
  options: { retentionDays: number; now?: Date; batchSize?: number },
): Promise<RetentionReport> {
  const now = options.now ?? new Date();
  const batchSize = options.batchSize ?? 1000;
  const generationsSoftDeleted = await inBatches(
    deps.orm,
    `update generations set deleted_at = now(), updated_at = now() where id in (
       select id from generations where deleted_at is null and created_at < ?
        order by created_at limit ? for update skip locked)
     returning id`,
    [new Date(now.getTime() - options.retentionDays * DAY_MS)],
    batchSize,
  );
  const filesPurged = await purgeDeletedFiles(
    deps.orm.em.fork(),
    deps.storage,
    new Date(now.getTime() - FILE_PURGE_GRACE_DAYS * DAY_MS),
    batchSize,
  );
  const sessionsDeleted = await inBatches(
    deps.orm,
    `delete from sessions where id in (
       select id from sessions where expires_at < ? limit ? for update skip locked)
     returning id`,
    [now],
    batchSize,
  );
  const tokensDeleted = await inBatches(
    deps.orm,
    `delete from auth_tokens where id in (
       select id from auth_tokens where expires_at < ? limit ? for update skip locked)
     returning id`,
    [now],
    batchSize,
  );
  const rateLimitWindowsDeleted = await inBatches(
    deps.orm,
    `delete from rate_limit_windows where (key, window_start) in (
       select key, window_start from rate_limit_windows where window_start < ? limit ? for update skip locked)
     returning key`,
    [new Date(now.getTime() - DAY_MS)],
    batchSize,
  );
  return { generationsSoftDeleted, filesPurged, sessionsDeleted, tokensDeleted, rateLimitWindowsDeleted };
}
