// The skeleton every job attempt shares (pg-boss may run a job twice: a timed-out attempt is retried
// while the first still works, a killed worker's job is picked up again):
//
// - its last write is a conditional update in a transaction of its own; when it matches no row,
//   another attempt finished first: this one rolls back, cleans up what it wrote outside the
//   database (files), and stops quietly (`settleAttempt`);
// - a failing attempt asks the queue for a retry while attempts remain, and on the last one the job
//   records the failure itself (`retryUnlessLastAttempt`).
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../../common/logger.ts';

/** Where a job's run is among its attempts (pg-boss's retry count and limit). */
export type JobAttempt = { retryCount: number; retryLimit: number };

/** What `settleAttempt` answers when another attempt had already settled the job. */
export const LOST_RACE = Symbol('lost race');

class LostRace extends Error {}

/**
 * Runs `work` in a transaction of a fresh fork. `work` calls `lost()` when its conditional update
 * matched no row: the transaction rolls back and the answer is LOST_RACE. Whenever the transaction
 * does not commit (lost, or an error), `cleanup` runs first (e.g. discarding files written for rows
 * that never committed); errors other than a lost race propagate after it.
 */
export async function settleAttempt<T>(
  orm: MikroORM,
  work: (em: EntityManager, lost: () => never) => Promise<T>,
  cleanup: () => Promise<void>,
): Promise<T | typeof LOST_RACE> {
  try {
    return await orm.em.fork().transactional((em) =>
      work(em, () => {
        throw new LostRace();
      }),
    );
  } catch (error) {
    await cleanup();
    if (error instanceof LostRace) return LOST_RACE;
    throw error;
  }
}

/**
 * A failed attempt: while attempts remain, logs it (`<what> attempt failed; will retry`) and
 * rethrows so the queue retries with backoff; on the last attempt returns, for the job to record
 * the failure.
 */
export function retryUnlessLastAttempt(
  logger: Logger,
  attempt: JobAttempt,
  error: unknown,
  what: string,
  fields: Record<string, unknown>,
): void {
  if (attempt.retryCount >= attempt.retryLimit) return;
  logger.warn({ ...fields, attempt: attempt.retryCount, err: error }, `${what} attempt failed; will retry`);
  throw error;
}
