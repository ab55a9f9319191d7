// Reconciliation of lost provider callbacks (the `generation-reconcile` job, every minute). A
// generation handed to a provider that calls back stays `running` until its webhook arrives; when
// it is still running `expectedSeconds` after its prediction was recorded, we ask the provider for
// the prediction and settle it through the same code as a webhook (finish(): the conditional
// transitions, the outputs copied into our storage first — Replicate deletes them after an hour —
// and exactly one release of the hold for a failure or cancel). A late webhook racing this changes nothing twice:
// whichever moves the row first wins, the other discards the files it wrote.
//
// Still pending: asked again at the next run, until GIVE_UP_FACTOR × expectedSeconds have passed;
// then the prediction is canceled at the provider and the generation fails (its hold released). Outputs
// already deleted by the provider: failed, its hold released (the user got nothing). Provider
// unreachable: left for the next run.
import type { Logger } from '../../common/logger.ts';
import { sql } from '../../db/sql.ts';
import { finish, type RunnerDeps } from './generation-runner.ts';
import * as generations from './generations.service.ts';
import { ProviderOutputsGoneError, ProviderUnavailableError } from './providers/provider.ts';

/** A prediction pending this many times its expected duration is given up. */
export const GIVE_UP_FACTOR = 12;
const BATCH = 100;

export type ReconcileDeps = Pick<RunnerDeps, 'orm' | 'storage' | 'providers'> & { logger: Logger };

export type ReconcileReport = {
  /** Generations asked about. */
  checked: number;
  /** Settled by this run (succeeded, failed, canceled), or already settled by a callback meanwhile. */
  settled: number;
  stillRunning: number;
  gaveUp: number;
  /** The provider could not be asked (down, timing out): tried again next run. */
  unavailable: number;
};

type Due = { id: string; provider_prediction_id: string; overdue_seconds: number };

export async function reconcileGenerations(
  deps: ReconcileDeps,
  options: { now?: Date; signal?: AbortSignal } = {},
): Promise<ReconcileReport> {
  const now = options.now ?? new Date();
  const signal = options.signal ?? new AbortController().signal;
  const report: ReconcileReport = { checked: 0, settled: 0, stillRunning: 0, gaveUp: 0, unavailable: 0 };
  for (const provider of Object.values(deps.providers)) {
    if (!provider.expectedSeconds) continue;
    // Running since the prediction was recorded (the row's last update) for longer than expected.
    const due = await sql<Due>(
      deps.orm.em.fork(),
      `select id, provider_prediction_id,
              extract(epoch from ($1::timestamptz - updated_at))::int as overdue_seconds
         from generations
        where status = 'running' and provider = $2 and provider_prediction_id is not null
          and updated_at < $3::timestamptz - make_interval(secs => $4)
        order by updated_at limit $5`,
      [now, provider.name, now, provider.expectedSeconds, BATCH],
    );
    for (const row of due) {
      if (signal.aborted) return report;
      report.checked++;
      const outcome = await reconcileOne(deps, provider, row, signal);
      report[outcome]++;
    }
  }
  return report;
}

async function reconcileOne(
  deps: ReconcileDeps,
  provider: ReconcileDeps['providers'][string],
  row: Due,
  signal: AbortSignal,
): Promise<Exclude<keyof ReconcileReport, 'checked'>> {
  const settle = (error: string) =>
    deps.orm.em.fork().transactional((em) => generations.failRun(em, row.id, error));
  let result: Awaited<ReturnType<typeof provider.get>>;
  try {
    result = await provider.get(row.provider_prediction_id, signal);
  } catch (error) {
    if (error instanceof ProviderOutputsGoneError) {
      await settle('The provider deleted the outputs before they could be collected');
      return 'settled';
    }
    if (error instanceof ProviderUnavailableError) {
      deps.logger.warn({ generationId: row.id, err: error }, 'reconciliation: the provider is unavailable');
      return 'unavailable';
    }
    throw error;
  }
  if (result.state !== 'pending') {
    await finish(deps, row.id, result);
    return 'settled';
  }
  const expected = provider.expectedSeconds ?? 0;
  if (row.overdue_seconds < expected * GIVE_UP_FACTOR) return 'stillRunning';
  // Released first (the user is owed it whatever the provider says), then stopped at the provider.
  await settle(`The provider did not finish within ${Math.round((expected * GIVE_UP_FACTOR) / 60)} minutes`);
  await provider.cancel(row.provider_prediction_id).catch((error: unknown) => {
    deps.logger.warn({ generationId: row.id, err: error }, 'reconciliation: could not cancel the prediction');
  });
  return 'gaveUp';
}
