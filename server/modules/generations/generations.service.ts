// The generation lifecycle: queued → running → succeeded | failed | canceled.
// create() holds the price, records and enqueues in the caller's transaction. Every later transition
// is a conditional UPDATE (… WHERE status IN (…)), so a duplicate job run, a late provider callback
// or a cancel racing a completion changes nothing twice; the transition that wins settles the hold in
// its transaction — captured into one `usage` row on success, released on failure or cancel — and the
// hold's own conditional move (open → captured | released) makes that exactly once as well.
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  type CreateGenerationCommand,
  type GenerationImage,
  type GenerationKind,
  type GenerationStatus,
  type ListGenerationsQuery,
  OPERATION_OF_KIND,
} from '../../../shared/schemas/generations.ts';
import { AppError } from '../../common/app-error.ts';
import { uuidv7 } from '../../common/ids.ts';
import { decodeCursor, newestFirstAfter, toPage } from '../../common/pagination.ts';
import { prepared, sql } from '../../db/sql.ts';
import { moveStatus } from '../../db/status-move.ts';
import { queuePrioritySql } from '../billing/queue-priority.ts';
import * as credits from '../credits/credits.service.ts';
import { type Jobs, jobData, jobInsertSql, QUEUES } from '../jobs/queue.ts';
import { settleProjectGeneration } from '../projects/project-lifecycle.ts';
import { getSettings, type SettingsDto } from '../settings/settings.service.ts';
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
// and the earlier generation read beside it), the hold on its price (credits.service.ts: `held`
// raised only if the available balance covers it, the API key's daily spend within its budget, the
// hold row, grants reserved) made to depend on the insert — so a repeated key holds nothing and the
// common path needs no savepoint — and the job (the row pg-boss's send writes: jobs/queue.ts),
// written only when the generation is (and, when it costs credits, held), with the priority the
// user's plan gives (billing/queue-priority.ts: an index probe inside this statement).
const GENERATION_COLUMNS = `id, kind, agent_type, status, input, prompt, model, output_count, credits_charged,
  unit_cost, price_version_id, images, response, error, tokens_used, duration_ms, project_id, started_at,
  completed_at, created_at`;

/** The generation's own CTEs, its parameters from `$first` on (values: createGenerationStatement); `user` is the caller's id. */
function generationCtes(first: number, user: string): string {
  const $ = (i: number) => `$${first + i}`;
  return `gen as (
  insert into generations (id, user_id, organization_id, project_id, kind, agent_type, input, prompt, provider,
                           model, output_count, credits_charged, unit_cost, price_version_id, status,
                           idempotency_key, attempts, created_at, updated_at)
  values (${$(0)}, ${user}, ${$(1)}, ${$(2)}, ${$(3)}, ${$(4)}, ${$(5)}::jsonb, ${$(6)}, ${$(7)}, ${$(8)}, ${$(9)},
          ${$(10)}, ${$(11)}, ${$(12)}, 'queued', ${$(13)}, 0, ${$(14)}, ${$(14)})
  on conflict on constraint generations_user_id_idempotency_key_unique do nothing
  returning id),
earlier as (
  select ${GENERATION_COLUMNS} from generations where user_id = ${user} and idempotency_key = ${$(13)})`;
}

/** The generation's parameters (15), then the job's payload. */
const GENERATION_PARAM_COUNT = 15;

/** The charged statement: the hold's parameters first (the user id among them), then the generation's, then the job's. */
function heldStatement(keyed: boolean): string {
  const holdCount = keyed ? credits.KEYED_HOLD_PARAM_COUNT : credits.HOLD_PARAM_COUNT;
  const jobParam = holdCount + GENERATION_PARAM_COUNT + 1;
  return prepared(`
with ${generationCtes(holdCount + 1, `$${credits.HOLD_USER_INDEX + 1}`)},
${credits.holdCtes(1, { keyed, when: 'exists (select 1 from gen)' })},
job as (${jobInsertSql(QUEUES.generationRun, jobParam, 'exists (select 1 from hold)', queuePrioritySql(`$${credits.HOLD_USER_INDEX + 1}`))})
select exists (select 1 from gen) as created,
       exists (select 1 from held) as funded,
       ${keyed ? 'exists (select 1 from spent)' : 'true'} as within_budget,
       exists (select 1 from job) as queued,
       (select coalesce(sum(taken), 0) from reserved) as reserved,
       (select row_to_json(e) from earlier e) as earlier`);
}
/** Through a session (or a key-less caller). */
export const CREATE_HELD_SQL = heldStatement(false);
/** Through an API key: its daily spend (and budget) in the same statement. */
export const CREATE_HELD_KEYED_SQL = heldStatement(true);

// Free (a cost of 0): the generation and its job; the user id is $1.
export const CREATE_FREE_SQL = prepared(`
with ${generationCtes(2, '$1')},
job as (${jobInsertSql(QUEUES.generationRun, GENERATION_PARAM_COUNT + 2, 'exists (select 1 from gen)', queuePrioritySql('$1'))})
select exists (select 1 from gen) as created, true as funded, true as within_budget,
       exists (select 1 from job) as queued, 0 as reserved,
       (select row_to_json(e) from earlier e) as earlier`);

/** An idempotency key's first generation, read afresh (see createGeneration). */
export const KEYED_GENERATION_SQL = prepared(
  `select ${GENERATION_COLUMNS} from generations where user_id = $1 and idempotency_key = $2`,
);

export type CreateRow = {
  created: boolean;
  /** The available balance covered the price (the hold's `held` moved). */
  funded: boolean;
  /** The API key's daily budget covered it too (always true without a key). */
  within_budget: boolean;
  queued: boolean;
  /** Credits the hold reserved from expiring grants. */
  reserved: number;
  earlier: GenerationRow | null;
};

/** What a generation is priced at: a feature-cost version and its unit cost for the kind. */
export type Price = { versionId: string | null; unitCost: number };

/** The price of `command` under the settings in force (settings.service.ts, cached per process). */
export function priceOf(
  settings: Pick<SettingsDto, 'featureCosts' | 'priceVersion'>,
  command: Pick<CreateGenerationCommand, 'kind'>,
): Price {
  return {
    versionId: settings.priceVersion?.id ?? null,
    unitCost: settings.featureCosts[OPERATION_OF_KIND[command.kind]],
  };
}

/**
 * generations.create's statement for one request: its text (one of three fixed, prepared texts), its
 * parameters and the generation it inserts. The bench's baseline server sends the same statement.
 */
export function createGenerationStatement(
  userId: string,
  command: CreateGenerationCommand,
  price: Price,
  providerName: string,
  links: { projectId?: string; organizationId?: string | null; apiKeyId?: string | null } = {},
) {
  const now = new Date();
  const cost = price.unitCost * command.outputCount;
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
    unitCost: price.unitCost,
    priceVersionId: price.versionId,
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
    price.unitCost,
    price.versionId,
    command.idempotencyKey ?? null,
    now,
  ];
  const job = jobData({ generationId: generation.id });
  if (cost <= 0)
    return { text: CREATE_FREE_SQL, values: [userId, ...generationParams, job], generation, cost };
  const hold = credits.holdParams({
    userId,
    amount: cost,
    generationId: generation.id,
    apiKeyId: links.apiKeyId ?? null,
  });
  return {
    text: links.apiKeyId ? CREATE_HELD_KEYED_SQL : CREATE_HELD_SQL,
    values: [...hold, ...generationParams, job],
    generation,
    cost,
  };
}

/**
 * Holds the price on the user's credits, records the generation and enqueues its job — all in
 * `em`'s transaction. The same idempotency key again returns the first generation, held once.
 */
export async function createGeneration(
  em: EntityManager,
  deps: GenerationDeps,
  userId: string,
  command: CreateGenerationCommand,
  /**
   * projectId/organizationId: set by the projects module for a project's code generations (after
   * its access checks); apiKeyId: the key the caller used, whose daily budget the hold counts against.
   */
  links: { projectId?: string; organizationId?: string | null; apiKeyId?: string | null } = {},
) {
  const price = priceOf(await getSettings(em), command);
  const statement = createGenerationStatement(userId, command, price, deps.providerName, links);
  const [result] = await sql<CreateRow>(em, statement.text, statement.values);
  if (!result?.created) {
    // The key was used before: the first generation, held once.
    if (result?.earlier) return generationDtoOf(result.earlier);
    // …by a twin that committed after this statement's snapshot was taken.
    const [twin] = await sql<GenerationRow>(em, KEYED_GENERATION_SQL, [userId, command.idempotencyKey]);
    if (!twin) throw new AppError('conflict', 'This idempotency key is being used by another request');
    return generationDtoOf(twin);
  }
  // The generation is rolled back with everything else when the caller's transaction fails.
  if (!result.funded) throw credits.noPosting(-statement.cost);
  if (!result.within_budget && links.apiKeyId) {
    throw await credits.budgetExceeded(em, links.apiKeyId, statement.cost);
  }
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
  return toPage(rows, query.limit, toGenerationDto);
}

type TransitionRow = {
  id: string;
  user_id: string | null;
  kind: GenerationKind;
  output_count: number;
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
  const rows = await moveStatus<TransitionRow>(em, {
    table: 'generations',
    id,
    from,
    to,
    fields,
    returning:
      'id, user_id, kind, output_count, credits_charged, provider, provider_prediction_id, project_id',
  });
  const row = rows[0] ?? null;
  if (row?.user_id) await notifyGenerationUpdate(em, { userId: row.user_id, id, status: to });
  // A project's generation settling moves the project on, in the same transaction.
  if (row?.project_id && to !== 'running')
    await settleProjectGeneration(em, row.project_id, id, to === 'succeeded');
  return row;
}

/**
 * Settles what a generation that just reached a final status owes: its hold is captured (succeeded)
 * or released (failed, canceled). A generation charged at create, before holds existed, has no hold:
 * failed or canceled, it is refunded as it was then (key `refund:<id>`, once).
 */
async function settleCharge(
  em: EntityManager,
  row: TransitionRow,
  outcome: 'succeeded' | 'failed' | 'canceled',
  reason: string,
) {
  if (row.credits_charged <= 0) return;
  if (outcome === 'succeeded') {
    await credits.captureHold(em, row.id, {
      operationType: OPERATION_OF_KIND[row.kind],
      description: usageDescription(row),
    });
    return;
  }
  const released = await credits.releaseHold(em, { generationId: row.id });
  if (released.status !== 'none' || !row.user_id) return;
  await credits.refund(em, row.user_id, row.credits_charged, {
    generationId: row.id,
    idempotencyKey: `refund:${row.id}`,
    description: `Refund: ${reason}`,
  });
}

/**
 * Settles the open hold of a generation that ended without settling it (the hold sweeper's last
 * case: never in the normal course). True when this call settled it.
 */
export async function settleEndedHold(em: EntityManager, id: string): Promise<boolean> {
  // The generation row first, as every transition locks it: no transition settles it meanwhile.
  const [row] = await sql<TransitionRow & { status: GenerationStatus }>(
    em,
    `select id, user_id, kind, output_count, credits_charged, provider, provider_prediction_id, project_id, status
       from generations where id = $1 and status in ('succeeded', 'failed', 'canceled') for update`,
    [id],
  );
  if (!row) return false;
  if (row.status === 'succeeded') {
    const captured = await credits.captureHold(em, id, {
      operationType: OPERATION_OF_KIND[row.kind],
      description: usageDescription(row),
    });
    return captured !== null;
  }
  return (await credits.releaseHold(em, { generationId: id })).status === 'released';
}

const usageDescription = (row: Pick<TransitionRow, 'kind' | 'output_count'>) =>
  `${row.kind} generation (${row.output_count} output${row.output_count > 1 ? 's' : ''})`;

/** The user cancels: from queued or running only; releases the hold once. Returns the provider prediction to cancel. */
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
  await settleCharge(em, row, 'canceled', 'canceled by the user');
  await em.refresh(current);
  return {
    generation: toGenerationDto(current),
    predictionToCancel: row.provider_prediction_id
      ? { provider: row.provider, id: row.provider_prediction_id }
      : null,
  };
}

/** Soft delete; a generation still in flight is canceled (its hold released) first. */
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
  const rows = await sql<{ id: string; user_id: string | null }>(
    em,
    `update generations set status = 'running', attempts = attempts + 1,
            started_at = coalesce(started_at, now()), updated_at = now()
      where id = $1 and status in ('queued', 'running') returning id, user_id`,
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
  await sql(
    em,
    `update generations set provider_prediction_id = $1, provider_response = $2::jsonb, updated_at = now()
      where id = $3 and status = 'running'`,
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
  await sql(
    em,
    `update generations set duration_ms = greatest(0, (extract(epoch from (completed_at - started_at)) * 1000)::int)
      where id = $1`,
    [id],
  );
  await settleCharge(em, row, 'succeeded', 'succeeded');
  return true;
}

/** queued|running → failed, its hold released exactly once. False when it had already finished. */
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
  await sql(
    em,
    `update generations set duration_ms = greatest(0, (extract(epoch from (completed_at - coalesce(started_at, created_at))) * 1000)::int)
      where id = $1`,
    [id],
  );
  await settleCharge(em, row, 'failed', error.slice(0, 200));
  return true;
}

/** running → canceled when the provider reports the prediction canceled (its hold released once). */
export async function cancelRunByProvider(em: EntityManager, id: string): Promise<boolean> {
  const row = await transition(em, id, ['queued', 'running'], 'canceled', {
    completed_at: new Date(),
    error: 'Canceled by the provider',
  });
  if (!row) return false;
  await settleCharge(em, row, 'canceled', 'canceled by the provider');
  return true;
}

/**
 * Retention (spec §7): soft-deletes up to `limit` live generations created before `before`, oldest
 * first, skipping rows another transaction holds. Says how many it changed.
 */
export async function softDeleteOldGenerations(
  em: EntityManager,
  before: Date,
  limit: number,
): Promise<number> {
  const rows = await sql<{ id: string }>(
    em,
    `update generations set deleted_at = now(), updated_at = now() where id in (
       select id from generations where deleted_at is null and created_at < $1
        order by created_at limit $2 for update skip locked)
     returning id`,
    [before, limit],
  );
  return rows.length;
}
