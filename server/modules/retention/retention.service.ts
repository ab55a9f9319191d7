// Retention (spec §7): soft-deletes generations older than GENERATION_RETENTION_DAYS, purges files
// soft-deleted longer than the grace period, deletes expired sessions and email tokens and old
// rate-limit windows. Every step works in bounded batches, each its own short transaction with
// SKIP LOCKED, so it never holds long locks. The job only schedules: each table is changed by the
// module that owns it (generations, identity, rate-limits, storage). The ledger is never touched.
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { softDeleteOldGenerations } from '../generations/generations.service.ts';
import { deleteExpiredTokens } from '../identity/account.service.ts';
import { deleteExpiredSessions } from '../identity/identity.service.ts';
import { deleteOldWindows } from '../rate-limits/rate-limits.service.ts';
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

/** Runs `batch` (which changes at most `batchSize` rows and says how many), each in its own transaction, until a batch comes back short. */
async function inBatches(
  orm: MikroORM,
  batch: (em: EntityManager, batchSize: number) => Promise<number>,
  batchSize: number,
): Promise<number> {
  let total = 0;
  for (;;) {
    const changed = await orm.em.fork().transactional((em) => batch(em, batchSize));
    total += changed;
    if (changed < batchSize) return total;
  }
}

export async function runRetention(
  deps: { orm: MikroORM; storage: StorageDriver },
  options: { retentionDays: number; now?: Date; batchSize?: number },
): Promise<RetentionReport> {
  const now = options.now ?? new Date();
  const batchSize = options.batchSize ?? 1000;
  const generationsBefore = new Date(now.getTime() - options.retentionDays * DAY_MS);
  const generationsSoftDeleted = await inBatches(
    deps.orm,
    (em, limit) => softDeleteOldGenerations(em, generationsBefore, limit),
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
    (em, limit) => deleteExpiredSessions(em, now, limit),
    batchSize,
  );
  const tokensDeleted = await inBatches(
    deps.orm,
    (em, limit) => deleteExpiredTokens(em, now, limit),
    batchSize,
  );
  const windowsBefore = new Date(now.getTime() - DAY_MS);
  const rateLimitWindowsDeleted = await inBatches(
    deps.orm,
    (em, limit) => deleteOldWindows(em, windowsBefore, limit),
    batchSize,
  );
  return { generationsSoftDeleted, filesPurged, sessionsDeleted, tokensDeleted, rateLimitWindowsDeleted };
}
