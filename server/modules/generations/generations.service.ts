// The generation lifecycle: queued → running → succeeded | failed | canceled.
// create() charges, records and enqueues in the caller's transaction. Every later transition is a
// conditional UPDATE (… WHERE status IN (…)), so a duplicate job run, a late provider callback or
// a cancel racing a completion changes nothing twice; a failed or canceled generation is refunded
// exactly once (idempotency key per generation, and a unique index on refunds per generation).
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  type CreateGenerationCommand,
  type GenerationImage,
  type GenerationStatus,
  type ListGenerationsQuery,
  OPERATION_OF_KIND,
} from '../../../shared/schemas/generations.ts';
import { AppError } from '../../common/app-error.ts';
import { uuidv7 } from '../../common/ids.ts';
import { decodeCursor, newestFirstAfter, toPage } from '../../common/pagination.ts';
import * as credits from '../credits/credits.service.ts';
import { type Jobs, QUEUES } from '../jobs/queue.ts';
import { Organization } from '../orgs/organization.entity.ts';
import { Project } from '../projects/project.entity.ts';
import { settleProjectGeneration } from '../projects/project-lifecycle.ts';
import { getSettings } from '../settings/settings.service.ts';
import { Generation } from './generation.entity.ts';
import { notifyGenerationUpdate } from './generation-events.ts';
import { toGenerationDto } from './generations.dto.ts';

export type GenerationDeps = {
  jobs: Jobs;
  providerName: string;
  /** The job priority of the user's generations (billing's queue priority: paying customers first). */
  priorityOf?: (em: EntityManager, userId: string) => Promise<number>;
};

const promptOf = (command: CreateGenerationCommand): string =>
  command.kind === 'logo'
    ? `A professional logo for "${command.input.appName}", an app about ${command.input.appFocus}, ` +
      `in ${command.input.color1} and ${command.input.color2}`
    : command.input.prompt;

/** Charges the user, records the generation and enqueues its job — all in `em`'s transaction. */
export async function createGeneration(
  em: EntityManager,
  deps: GenerationDeps,
  userId: string,
  command: CreateGenerationCommand,
  /** Set by the projects module for a project's code generations (after its access checks). */
  links: { projectId?: string; organizationId?: string | null } = {},
) {
  if (command.idempotencyKey) {
    const earlier = await em.findOne(Generation, { user: userId, idempotencyKey: command.idempotencyKey });
    if (earlier) return toGenerationDto(earlier);
  }
  const { featureCosts } = await getSettings(em);
  const operation = OPERATION_OF_KIND[command.kind];
  const cost = featureCosts[operation] * command.outputCount;
  const now = new Date();
  const row = {
    id: uuidv7(),
    user: userId,
    kind: command.kind,
    agentType: command.kind === 'code' ? command.agentType : null,
    input: command.input as Record<string, unknown>,
    prompt: promptOf(command),
    provider: deps.providerName,
    model: command.model ?? null,
    outputCount: command.outputCount,
    creditsCharged: cost,
    status: 'queued' as const,
    idempotencyKey: command.idempotencyKey ?? null,
    project: links.projectId ?? null,
    organization: links.organizationId ?? null,
    attempts: 0,
    createdAt: now,
    updatedAt: now,
  };
  try {
    // A savepoint when keyed: a concurrent twin's unique violation must not poison our transaction.
    if (command.idempotencyKey) await em.transactional((tx) => tx.insert(Generation, row));
    else await em.insert(Generation, row);
  } catch (error) {
    if (command.idempotencyKey && error instanceof UniqueConstraintViolationException) {
      const twin = await em.findOneOrFail(Generation, {
        user: userId,
        idempotencyKey: command.idempotencyKey,
      });
      return toGenerationDto(twin);
    }
    throw error;
  }
  if (cost > 0) {
    await credits.spend(em, userId, cost, operation, {
      generationId: row.id,
      description: `${command.kind} generation (${command.outputCount} output${command.outputCount > 1 ? 's' : ''})`,
    });
  }
  const priority = deps.priorityOf ? await deps.priorityOf(em, userId) : 0;
  await deps.jobs.enqueue(em, QUEUES.generationRun, { generationId: row.id }, priority ? { priority } : {});
  await notifyGenerationUpdate(em, { userId, id: row.id, status: 'queued' });
  // The row as inserted (no read-back round trip); columns not set here are still empty.
  return toGenerationDto({
    ...row,
    project: row.project ? em.getReference(Project, row.project) : null,
    organization: row.organization ? em.getReference(Organization, row.organization) : null,
  } as unknown as Generation);
}

async function ownGeneration(em: EntityManager, userId: string, id: string) {
  const row = await em.findOne(Generation, { id, user: userId, deletedAt: null });
  if (!row) throw new AppError('not_found', 'No such generation');
  return row;
}

export async function getGeneration(em: EntityManager, userId: string, id: string) {
  return toGenerationDto(await ownGeneration(em, userId, id));
}

/** A search term matched literally: % and _ are not wildcards for the user. */
const escapeLike = (term: string) => term.replace(/[\\%_]/g, (char) => `\\${char}`);

export async function listGenerations(em: EntityManager, userId: string, query: ListGenerationsQuery) {
  const rows = await em.find(
    Generation,
    {
      user: userId,
      deletedAt: null,
      ...(query.status?.length ? { status: { $in: query.status } } : {}),
      ...(query.kind?.length ? { kind: { $in: query.kind } } : {}),
      ...(query.projectId ? { project: query.projectId } : {}),
      ...(query.search ? { prompt: { $ilike: `%${escapeLike(query.search)}%` } } : {}),
      ...(query.from || query.to
        ? {
            createdAt: {
              ...(query.from ? { $gte: query.from } : {}),
              ...(query.to ? { $lte: query.to } : {}),
            },
          }
        : {}),
      ...newestFirstAfter(decodeCursor(query.cursor)),
    },
    { orderBy: { createdAt: 'desc', id: 'desc' }, limit: query.limit + 1 },
  );
  return toPage(rows as (Generation & { createdAt: Date })[], query.limit, toGenerationDto);
}

type TransitionRow = {
  id: string;
  user_id: string | null;
  credits_charged: number;
  provider: string;
  provider_prediction_id: string | null;
  project_id: string | null;
};

/**
 * Moves a generation from one of `from` to `to`, setting `fields`; returns the row when this call
 * made the transition, null when another one already had (the caller then changes nothing).
 */
async function transition(
  em: EntityManager,
  id: string,
  from: GenerationStatus[],
  to: GenerationStatus,
  fields: Record<string, unknown> = {},
): Promise<TransitionRow | null> {
  const columns = Object.keys(fields);
  const assignments = columns.map((column) => `, "${column}" = ?`).join('');
  const rows = await em.execute<TransitionRow[]>(
    `update generations set status = ?, updated_at = now()${assignments}
      where id = ? and status in (${from.map(() => '?').join(', ')})
      returning id, user_id, credits_charged, provider, provider_prediction_id, project_id`,
    [to, ...columns.map((column) => fields[column]), id, ...from],
  );
  const row = rows[0] ?? null;
  if (row?.user_id) await notifyGenerationUpdate(em, { userId: row.user_id, id, status: to });
  // A project's generation settling moves the project on, in the same transaction.
  if (row?.project_id && to !== 'running')
    await settleProjectGeneration(em, row.project_id, id, to === 'succeeded');
  return row;
}

async function refundGeneration(em: EntityManager, row: TransitionRow, reason: string) {
  if (!row.user_id || row.credits_charged <= 0) return;
  await credits.refund(em, row.user_id, row.credits_charged, {
    generationId: row.id,
    idempotencyKey: `refund:${row.id}`,
    description: `Refund: ${reason}`,
  });
}

/** The user cancels: from queued or running only; refunds once. Returns the provider prediction to cancel. */
export async function cancelGeneration(em: EntityManager, userId: string, id: string) {
  const current = await ownGeneration(em, userId, id);
  const row = await transition(em, id, ['queued', 'running'], 'canceled', {
    completed_at: new Date(),
    error: 'Canceled by the user',
  });
  if (!row) {
    // Another transition won the row (its UPDATE held us until it committed): answer with what the
    // generation became then, not with the status read before — a racing cancel is no failure.
    await em.refresh(current);
    if (current.status === 'canceled')
      return { generation: toGenerationDto(current), predictionToCancel: null };
    throw new AppError(
      'conflict',
      `This generation has already ${current.status === 'succeeded' ? 'succeeded' : 'failed'}`,
    );
  }
  await refundGeneration(em, row, 'canceled by the user');
  await em.refresh(current);
  return {
    generation: toGenerationDto(current),
    predictionToCancel: row.provider_prediction_id
      ? { provider: row.provider, id: row.provider_prediction_id }
      : null,
  };
}

/** Soft delete; a generation still in flight is canceled (and refunded) first. */
export async function removeGeneration(em: EntityManager, userId: string, id: string) {
  const current = await ownGeneration(em, userId, id);
  let predictionToCancel: { provider: string; id: string } | null = null;
  if (current.status === 'queued' || current.status === 'running') {
    ({ predictionToCancel } = await cancelGeneration(em, userId, id));
  }
  await em.nativeUpdate(Generation, { id }, { deletedAt: new Date() });
  return { ok: true as const, predictionToCancel };
}

// ——— Worker-side transitions ———

/** Claims a generation for a run. Null when it is already finished (the job has nothing to do). */
export async function startRun(em: EntityManager, id: string) {
  const rows = await em.execute<{ id: string; user_id: string | null }[]>(
    `update generations set status = 'running', attempts = attempts + 1,
            started_at = coalesce(started_at, now()), updated_at = now()
      where id = ? and status in ('queued', 'running') returning id, user_id`,
    [id],
  );
  const claimed = rows[0];
  if (!claimed) return null;
  if (claimed.user_id) await notifyGenerationUpdate(em, { userId: claimed.user_id, id, status: 'running' });
  return em.findOneOrFail(Generation, { id }, { populate: ['providerResponse'], disableIdentityMap: true });
}

export async function recordPrediction(
  em: EntityManager,
  id: string,
  predictionId: string,
  response: unknown,
) {
  await em.execute(
    `update generations set provider_prediction_id = ?, provider_response = ?::jsonb, updated_at = now()
      where id = ? and status = 'running'`,
    [predictionId, JSON.stringify(response ?? null), id],
  );
}

export type CompletedOutput = {
  images: GenerationImage[];
  text: string | null;
  tokensUsed: number | null;
  providerResponse: Record<string, unknown> | null;
};

/** running → succeeded. False when the generation was canceled or finished meanwhile. */
export async function completeRun(em: EntityManager, id: string, output: CompletedOutput): Promise<boolean> {
  const row = await transition(em, id, ['running'], 'succeeded', {
    images: JSON.stringify(output.images),
    response: output.text,
    tokens_used: output.tokensUsed,
    provider_response: JSON.stringify(output.providerResponse),
    completed_at: new Date(),
    error: null,
  });
  if (!row) return false;
  await em.execute(
    `update generations set duration_ms = greatest(0, (extract(epoch from (completed_at - started_at)) * 1000)::int)
      where id = ?`,
    [id],
  );
  return true;
}

/** queued|running → failed, with exactly one refund. False when it had already finished. */
export async function failRun(
  em: EntityManager,
  id: string,
  error: string,
  providerResponse?: unknown,
): Promise<boolean> {
  const row = await transition(em, id, ['queued', 'running'], 'failed', {
    error: error.slice(0, 2000),
    completed_at: new Date(),
    ...(providerResponse !== undefined ? { provider_response: JSON.stringify(providerResponse) } : {}),
  });
  if (!row) return false;
  await em.execute(
    `update generations set duration_ms = greatest(0, (extract(epoch from (completed_at - coalesce(started_at, created_at))) * 1000)::int)
      where id = ?`,
    [id],
  );
  await refundGeneration(em, row, error.slice(0, 200));
  return true;
}

/** running → canceled when the provider reports the prediction canceled (refunded once). */
export async function cancelRunByProvider(em: EntityManager, id: string): Promise<boolean> {
  const row = await transition(em, id, ['queued', 'running'], 'canceled', {
    completed_at: new Date(),
    error: 'Canceled by the provider',
  });
  if (!row) return false;
  await refundGeneration(em, row, 'canceled by the provider');
  return true;
}
