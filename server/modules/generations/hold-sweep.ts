// The hold sweeper (the `hold-sweep` job, every 5 minutes): releases the credits held for generations
// that can no longer finish. A hold is settled in the transaction of the transition that ends its
// generation, so in the normal course nothing is left for this job; it covers what that cannot:
//
// - a generation still `queued` or `running` whose pg-boss job is gone — its attempts and its
//   dead-letter job all failed or were deleted — and that no provider will call back about (no
//   prediction recorded: those are the reconciliation job's, which gives up on them itself). It is
//   failed through failRun, the same conditional transition as any failure: its hold is released
//   once, whoever else settles it at the same moment;
// - an open hold whose generation row is gone (nothing will ever transition it): released;
// - an open hold whose generation ended without settling it (a bug or a manual edit): settled as
//   the generation ended — captured if it succeeded, released otherwise.
// Each is its own short transaction; a re-run, or two sweepers at once, settle nothing twice.
import type { MikroORM } from '@mikro-orm/postgresql';
import { sql } from '../../db/sql.ts';
import * as credits from '../credits/credits.service.ts';
import { QUEUES } from '../jobs/queue.ts';
import * as generations from './generations.service.ts';

/** A generation without a live job is left alone this long after its last change (seconds). */
export const HOLD_SWEEP_STALE_SECONDS = 600;
const BATCH = 500;

export type HoldSweepReport = {
  /** Generations failed because their job was gone (each hold released with it). */
  failed: number;
  /** Holds of deleted generations released. */
  orphansReleased: number;
  /** Holds of generations that had ended without settling them, settled now. */
  settled: number;
};

export async function sweepHolds(
  orm: MikroORM,
  options: { staleSeconds?: number } = {},
): Promise<HoldSweepReport> {
  const report: HoldSweepReport = { failed: 0, orphansReleased: 0, settled: 0 };
  const stale = options.staleSeconds ?? HOLD_SWEEP_STALE_SECONDS;
  const stranded = await sql<{ id: string }>(
    orm.em.fork(),
    `select g.id from generations g
      where g.status in ('queued', 'running') and g.provider_prediction_id is null
        and g.updated_at < now() - make_interval(secs => $1)
        and not exists (
          select 1 from pgboss.job j
           where j.name in ($2, $3) and j.state in ('created', 'retry', 'active')
             and j.data ->> 'generationId' = g.id::text)
      order by g.updated_at limit $4`,
    [stale, QUEUES.generationRun, QUEUES.generationDead, BATCH],
  );
  for (const { id } of stranded) {
    const failed = await orm.em
      .fork()
      .transactional((em) =>
        generations.failRun(
          em,
          id,
          'The generation could no longer finish (its job was lost); the credits it held were released',
        ),
      );
    if (failed) report.failed++;
  }
  for (const holdId of await credits.orphanedHolds(orm.em.fork(), BATCH)) {
    const outcome = await orm.em.fork().transactional((em) => credits.releaseHold(em, { holdId }));
    if (outcome.status === 'released') report.orphansReleased++;
  }
  const ended = await sql<{ generation_id: string }>(
    orm.em.fork(),
    `select h.generation_id from credit_holds h join generations g on g.id = h.generation_id
      where h.status = 'open' and g.status in ('succeeded', 'failed', 'canceled') limit $1`,
    [BATCH],
  );
  for (const { generation_id: id } of ended) {
    const settled = await orm.em.fork().transactional((em) => generations.settleEndedHold(em, id));
    if (settled) report.settled++;
  }
  return report;
}
