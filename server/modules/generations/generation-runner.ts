// The worker side of a generation: runs it on its provider and records the outcome.
// pg-boss may run the same job twice (a timed-out attempt is retried while the first still works,
// a killed worker's job is picked up again); every write here is a conditional transition, so the
// second run changes nothing and settles no hold twice (the attempt skeleton: jobs/attempt.ts).
import type { MikroORM } from '@mikro-orm/postgresql';
import type { GenerationImage } from '../../../shared/schemas/generations.ts';
import type { Logger } from '../../common/logger.ts';
import { sql } from '../../db/sql.ts';
import { type JobAttempt, LOST_RACE, retryUnlessLastAttempt, settleAttempt } from '../jobs/attempt.ts';
import { discardFiles, storeFile } from '../storage/storage.service.ts';
import type { StorageDriver } from '../storage/storage-driver.ts';
import * as generations from './generations.service.ts';
import {
  type GenerationProvider,
  type ProviderJob,
  type ProviderResult,
  ProviderUnavailableError,
} from './providers/provider.ts';

export type RunnerDeps = {
  orm: MikroORM;
  logger: Logger;
  storage: StorageDriver;
  providers: Record<string, GenerationProvider>;
  /** Base URL providers can call back (POST {base}/webhooks/provider/:name); null = poll only. */
  webhookBaseUrl: string | null;
  /** Delay between polls of a pending prediction (ms). */
  pollIntervalMs?: number;
};

export type Attempt = JobAttempt & { signal: AbortSignal };

/** Handles one generation-run job. Throws to ask the queue for a retry. */
export async function runGeneration(deps: RunnerDeps, generationId: string, attempt: Attempt): Promise<void> {
  const generation = await deps.orm.em.fork().transactional((em) => generations.startRun(em, generationId));
  if (!generation) return; // already finished: a duplicate run has nothing to do
  const provider = deps.providers[generation.provider];
  if (!provider) {
    await finish(deps, generationId, { state: 'failed', error: `Unknown provider "${generation.provider}"` });
    return;
  }
  try {
    const job = toProviderJob(deps, generation);
    let result: ProviderResult | { state: 'settled' } = generation.providerPredictionId
      ? await provider.get(generation.providerPredictionId, attempt.signal)
      : await provider.create(job, attempt.signal);
    if (result.state === 'pending') {
      const { predictionId, providerResponse } = result;
      await deps.orm.em
        .fork()
        .transactional((em) =>
          generations.recordPrediction(em, generationId, predictionId, providerResponse),
        );
      if (job.webhookUrl) {
        // The provider calls back: the job ends here and frees its worker. A callback that came
        // before the prediction id was recorded was ignored, so ask once now; one that never comes
        // is settled by the reconciliation job (generation-reconcile.ts).
        result = await provider.get(predictionId, attempt.signal);
        if (result.state === 'pending') return;
      } else {
        result = await pollUntilDone(deps, provider, generationId, predictionId, attempt.signal);
      }
    }
    await finish(deps, generationId, result);
  } catch (error) {
    // Network trouble, a 5xx, a timeout, a crash: the queue retries with backoff.
    retryUnlessLastAttempt(deps.logger, attempt, error, 'generation', { generationId });
    const message =
      error instanceof ProviderUnavailableError ? 'The provider is unavailable' : 'The generation failed';
    await finish(deps, generationId, {
      state: 'failed',
      error: `${message}: ${(error as Error).message ?? error}`,
    });
  }
}

async function pollUntilDone(
  deps: RunnerDeps,
  provider: GenerationProvider,
  generationId: string,
  predictionId: string,
  signal: AbortSignal,
): Promise<ProviderResult | { state: 'settled' }> {
  const interval = deps.pollIntervalMs ?? 1000;
  for (;;) {
    if (signal.aborted) throw new Error('The attempt timed out while waiting for the provider');
    // A webhook may have settled it already.
    const status = await currentStatus(deps, generationId);
    if (status !== 'running') return { state: 'settled' };
    const result = await provider.get(predictionId, signal);
    if (result.state !== 'pending') return result;
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

async function currentStatus(deps: RunnerDeps, generationId: string) {
  const rows = await sql<{ status: string }>(
    deps.orm.em.fork(),
    'select status from generations where id = $1',
    [generationId],
  );
  return rows[0]?.status;
}

/** Records a provider result (from the worker or a webhook). Safe to call any number of times. */
export async function finish(
  deps: Pick<RunnerDeps, 'orm' | 'storage' | 'logger'>,
  generationId: string,
  result: ProviderResult | { state: 'settled' },
): Promise<void> {
  if (result.state === 'settled' || result.state === 'pending') return;
  if (result.state === 'failed') {
    await deps.orm.em
      .fork()
      .transactional((em) => generations.failRun(em, generationId, result.error, result.providerResponse));
    return;
  }
  if (result.state === 'canceled') {
    await deps.orm.em.fork().transactional((em) => generations.cancelRunByProvider(em, generationId));
    return;
  }
  const { output } = result;
  const written: string[] = [];
  const completed = await settleAttempt(
    deps.orm,
    async (em, lost) => {
      const owner = await sql<{ user_id: string | null }>(
        em,
        'select user_id from generations where id = $1',
        [generationId],
      );
      const userId = owner[0]?.user_id;
      const images: GenerationImage[] = [];
      if (userId) {
        for (const file of output.files) {
          const object = await storeFile(em, deps.storage, { userId, ...file });
          written.push(object.key);
          images.push({ objectId: object.id, url: object.url, contentType: object.contentType });
        }
        await em.flush();
      }
      const done = await generations.completeRun(em, generationId, {
        images,
        text: output.text ?? null,
        tokensUsed: output.tokensUsed ?? null,
        providerResponse: output.providerResponse ?? null,
      });
      if (!done) lost();
    },
    () => discardFiles(deps.storage, written),
  );
  if (completed === LOST_RACE)
    deps.logger.info({ generationId }, 'generation finished elsewhere; discarded this run’s outputs');
}

function toProviderJob(
  deps: RunnerDeps,
  generation: NonNullable<Awaited<ReturnType<typeof generations.startRun>>>,
): ProviderJob {
  return {
    generationId: generation.id,
    kind: generation.kind,
    input: generation.input,
    prompt: generation.prompt ?? '',
    model: generation.model ?? null,
    outputCount: generation.outputCount,
    agentType: generation.agentType ?? null,
    webhookUrl: deps.webhookBaseUrl
      ? `${deps.webhookBaseUrl}/webhooks/provider/${generation.provider}`
      : null,
  };
}
