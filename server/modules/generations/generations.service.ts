// The generation lifecycle: queued → running → succeeded | failed | canceled.
// create() charges, records and enqueues in the caller's transaction. Every later transition is a
// conditional UPDATE (… WHERE status IN (…)), so a duplicate job run, a late provider callback or
// a cancel racing a completion changes nothing twice; a failed or canceled generation is refunded
// exactly once (idempotency key per generation, and a unique index on refunds per generation).
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
import { prepared, sql } from '../../db/sql.ts';
import { queuePrioritySql } from '../billing/queue-priority.ts';
import * as credits from '../credits/credits.service.ts';
import { type Jobs, jobData, jobInsertSql, QUEUES } from '../jobs/queue.ts';
import { settleProjectGeneration } from '../projects/project-lifecycle.ts';
import { getSettings } from '../settings/settings.service.ts';
import { Generation } from './generation.entity.ts';
import { notifyGenerationUpdate } from './generation-events.ts';
import {
  type GenerationDto,
  type GenerationRow,
  generationDtoOf,
  toGenerationDto,
} from './generations.dto.ts';

export type GenerationDeps = { jobs: Jobs; providerName: string };

const promptOf = (command: CreateGenerationCommand): string =>
  command.kind === 'logo'
    ? `A professional logo for "${command.input.appName}", an app about ${command.input.appFocus}, ` +
      `in ${command.input.color1} and ${command.input.color2}`
    : command.input.prompt;

// generations.create in one statement (after the session read and `begin`; then `commit`): the
// generation's insert, its idempotency key resolved by the same insert (ON CONFLICT … DO NOTHING,
// and the earlier generation read beside it), the ledger's posting (credits.service.ts: debit,
// ledger row, grants drained) made to depend on the insert — so a repeated key charges nothing and
// the common path needs no savepoint — and the job (the row pg-boss's send writes: jobs/queue.ts),
// written only when the generation is (and, when it costs credits, charged), with the priority the
// user's plan gives (billing/queue-priority.ts: an index probe inside this statement).
const GENERATION_COLUMNS = `id, kind, agent_type, status, input, prompt, model, output_count, credits_charged,
  images, response, error, tokens_used, duration_ms, project_id, started_at, completed_at, created_at`;

/** The generation's own CTEs, its parameters from `$first` on (values: createGenerationStatement); `user` is the caller's id. */
function generationCtes(first: number, user: string): string {
  const $ = (i: number) => `$${first + i}`;
  return `gen as (
  insert into generations (id, user_id, organization_id, project_id, kind, agent_type, input, prompt, provider,
                           model, output_count, credits_charged, status, idempotency_key, attempts, created_at,
                           updated_at)
  values (${$(0)}, ${user}, ${$(1)}, ${$(2)}, ${$(3)}, ${$(4)}, ${$(5)}::jsonb, ${$(6)}, ${$(7)}, ${$(8)}, ${$(9)},
          ${$(10)}, 'queued', ${$(11)}, 0, ${$(12)}, ${$(12)})
  on conflict on constraint generations_user_id_idempotency_key_unique do nothing
  returning id),
earlier as (
  select ${GENERATION_COLUMNS} from generations where user_id = ${user} and idempotency_key = ${$(11)})`;
}

/** The generation's parameters (13), then the job's payload. */
const GENERATION_PARAM_COUNT = 13;

// Charged: the posting's parameters first ($1 … $18, the user id among them), then the generation's,
// then the job's.
const CHARGED_JOB_PARAM = credits.POSTING_PARAM_COUNT + GENERATION_PARAM_COUNT + 1;
export const CREATE_CHARGED_SQL = prepared(`
with ${generationCtes(credits.POSTING_PARAM_COUNT + 1, `$${credits.POSTING_USER_INDEX + 1}`)},
${credits.postingCtes(1, { drain: true, when: 'exists (select 1 from gen)' })},
job as (${jobInsertSql(QUEUES.generationRun, CHARGED_JOB_PARAM, 'exists (select 1 from posted)', queuePrioritySql(`$${credits.POSTING_USER_INDEX + 1}`))})
select exists (select 1 from gen) as created,
       exists (select 1 from posted) as charged,
       exists (select 1 from job) as queued,
       (select coalesce(sum(taken), 0) from drained) as drained,
       (select row_to_json(e) from earlier e) as earlier`);

// Free (a cost of 0): the generation and its job; the user id is $1.
export const CREATE_FREE_SQL = prepared(`
with ${generationCtes(2, '$1')},
job as (${jobInsertSql(QUEUES.generationRun, GENERATION_PARAM_COUNT + 2, 'exists (select 1 from gen)', queuePrioritySql('$1'))})
select exists (select 1 from gen) as created, false as charged, exists (select 1 from job) as queued,
       0 as drained,
       (select row_to_json(e) from earlier e) as earlier`);

/** An idempotency key's first generation, read afresh (see createGeneration). */
export const KEYED_GENERATION_SQL = prepared(
  `select ${GENERATION_COLUMNS} from generations where user_id = $1 and idempotency_key = $2`,
);

export type CreateRow = {
  created: boolean;
  charged: boolean;
  queued: boolean;
  drained: number;
  earlier: GenerationRow | null;
};

/**
 * generations.create's statement for one request: its text (one of two fixed, prepared texts), its
 * parameters and the generation it inserts. The bench's baseline server sends the same statement.
 */
export function createGenerationStatement(
  userId: string,
  command: CreateGenerationCommand,
  cost: number,
  providerName: string,
  links: { projectId?: string; organizationId?: string | null } = {},
) {
  const now = new Date();
  const generation = {
    id: uuidv7(),
    kind: command.kind,
    agentType: command.kind === 'code' ? command.agentType : null,
    status: 'queued' as const,
    input: command.input as Record<string, unknown>,
    prompt: promptOf(command),
    model: command.model ?? null,
    outputCount: command.outputCount,
    creditsCharged: cost,
    images: [],
    response: null,
    error: null,
    tokensUsed: null,
    durationMs: null,
    projectId: links.projectId ?? null,
    startedAt: null,
    completedAt: null,
    createdAt: now,
  } satisfies GenerationDto;
  const generationParams = [
    generation.id,
    links.organizationId ?? null,
    generation.projectId,
    generation.kind,
    generation.agentType,
    JSON.stringify(generation.input),
    generation.prompt,
    providerName,
    generation.model,
    generation.outputCount,
    cost,
    command.idempotencyKey ?? null,
    now,
  ];
  const job = jobData({ generationId: generation.id });
  if (cost <= 0) return { text: CREATE_FREE_SQL, values: [userId, ...generationParams, job], generation };
  const posting = credits.postingParams({
    userId,
    type: 'usage',
    amount: -cost,
    operationType: OPERATION_OF_KIND[command.kind],
    generationId: generation.id,
    description: `${command.kind} generation (${command.outputCount} output${command.outputCount > 1 ? 's' : ''})`,
  });
  return { text: CREATE_CHARGED_SQL, values: [...posting, ...generationParams, job], generation };
}

/**
 * Charges the user, records the generation and enqueues its job — all in `em`'s transaction. The
 * same idempotency key again returns the first generation, charged once.
 */
export async function createGeneration(
  em: EntityManager,
  deps: GenerationDeps,
  userId: string,
  command: CreateGenerationCommand,
  /** Set by the projects module for a project's code generations (after its access checks). */
  links: { projectId?: string; organizationId?: string | null } = {},
) {
  const { featureCosts } = await getSettings(em);
  const cost = featureCosts[OPERATION_OF_KIND[command.kind]] * command.outputCount;
  const statement = createGenerationStatement(userId, command, cost, deps.providerName, links);
  const [result] = await sql<CreateRow>(em, statement.text, statement.values);
  if (!result?.created) {
    // The key was used before: the first generation, charged once.
    if (result?.earlier) return generationDtoOf(result.earlier);
    // …by a twin that committed after this statement's snapshot was taken.
    const [twin] = await sql<GenerationRow>(em, KEYED_GENERATION_SQL, [userId, command.idempotencyKey]);
    if (!twin) throw new AppError('conflict', 'This idempotency key is being used by another request');
    return generationDtoOf(twin);
  }
  // The generation is rolled back with everything else when the caller's transaction fails.
  if (cost > 0 && !result.charged) throw credits.noPosting(-cost);
  if (!result.queued) throw new Error(`the ${QUEUES.generationRun} queue is missing: no job was written`);
  // The job is in: its workers are woken once this commits. No live-update NOTIFY for `queued`: the
  // caller already knows, and a NOTIFY in this transaction would serialise every create's commit
  // (see jobs/queue.ts).
  deps.jobs.wakeAfterCommit(em, QUEUES.generationRun);
  return statement.generation;
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
