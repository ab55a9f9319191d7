// The credit ledger's rules. Every change of a balance goes through post(): one SQL statement that
// moves the balance row conditionally (never below what open holds reserve) and appends the ledger
// row carrying the resulting balance_after. Under READ COMMITTED the UPDATE re-checks its WHERE
// against the latest committed row, so concurrent spends can never overdraw; a repeated idempotency
// key violates a unique index, which aborts the whole statement (debit included), and we return the
// first result.
//
// Holds (credit_holds): a generation reserves its price when it is created (holdCtes, inside
// generations.create's one statement) — the available balance (balance − held) drops, nothing is
// spent — and the hold is settled exactly once: captureHold writes the one `usage` row, releaseHold
// gives the credits back (no ledger row). Each settlement is a conditional move of the hold row
// (open → captured | released), so duplicates change nothing.
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  BALANCE_TOTAL_OF_TYPE,
  type BalanceTotal,
  type CreditTransactionType,
  NEGATED_TOTALS,
  type OperationType,
  type TransactionsQuery,
} from '../../../shared/schemas/credits.ts';
import { AppError } from '../../common/app-error.ts';
import { uuidv7 } from '../../common/ids.ts';
import { prepared, sql } from '../../db/sql.ts';
import { record, SYSTEM } from '../audit/audit.service.ts';
import type { User } from '../identity/user.entity.ts';
import { CreditBalance } from './credit-balance.entity.ts';
import { CreditGrant } from './credit-grant.entity.ts';
import { CreditTransaction } from './credit-transaction.entity.ts';
import { type BalanceDto, toTransactionDto } from './credits.dto.ts';

export type Posting = {
  userId: string;
  type: CreditTransactionType;
  /** Signed: negative takes credits away. */
  amount: number;
  description?: string | null;
  operationType?: OperationType | null;
  externalOrderId?: string | null;
  externalProductId?: string | null;
  performedBy?: string | null;
  idempotencyKey?: string | null;
  generationId?: string | null;
  paymentId?: string | null;
  metadata?: Record<string, unknown> | null;
  /**
   * Whether a debit drains expiring grants first (the default). Off for debits that take from
   * specific grants themselves (a clawback of an invoice's grant) or only from credits that never
   * expire (a clawback of a package purchase), and for expirations.
   */
  drainGrants?: boolean;
};

export type PostedTransaction = {
  id: string;
  seq: number;
  amount: number;
  balanceAfter: number;
  createdAt: Date;
  /** True when an earlier posting with the same idempotency key was returned instead. */
  replayed: boolean;
};

const IDEMPOTENCY_CONSTRAINT = 'credit_transactions_user_id_idempotency_key_unique';

/** Where a posting's user id is among its parameters (see postingParams). */
const POSTING_USER_INDEX = 6;

/**
 * The ledger's posting as the CTEs of one statement, its parameters numbered from `$first` on
 * (values: postingParams), in one place: every ledger row but a hold's capture (CAPTURE_SQL) is
 * written by it, through postingStatement (post(), and the two postings that must not replay).
 * `when` (SQL) makes the posting depend on something earlier in the same statement.
 *
 * - `moved`: the balance row moves only if the available balance (balance − held) stays ≥ 0. Under
 *   READ COMMITTED the UPDATE re-checks its WHERE against the latest committed row, so concurrent
 *   debits can never overdraw (nor take credits open holds reserve).
 * - `posted`: the ledger row, with `balance_after` and the per-user `seq`.
 * - `drained` (`drain: true`, read by the statement's final select): a debit takes its credits from
 *   live grants first, soonest expiry first, recording what it took from each
 *   (credit_grant_allocations, so a refund can give it back there) — credit_grants_drain() (see its
 *   migration), called only once `moved` holds the balance row's lock, on a snapshot fresh from
 *   that moment: the balance row lock serialises this user's debits, refunds and the expiry job.
 *
 * A repeated idempotency key violates a unique index: the whole statement fails, debit included.
 */
function postingCtes(first: number, options: { drain: boolean; when?: string }): string {
  const $ = (i: number) => `$${first + i}`;
  const amount = `${$(0)}::int`;
  return `moved as (
  update credit_balances
     set balance = balance + ${amount},
         total_purchased = total_purchased + ${$(1)}::int,
         total_granted = total_granted + ${$(2)}::int,
         total_used = total_used + ${$(3)}::int,
         total_refunded = total_refunded + ${$(4)}::int,
         total_clawed_back = total_clawed_back + ${$(5)}::int,
         ledger_seq = ledger_seq + 1,
         last_transaction_at = now(),
         updated_at = now()
   where user_id = ${$(POSTING_USER_INDEX)} and balance - held + ${amount} >= 0${options.when ? ` and ${options.when}` : ''}
   returning user_id, balance, ledger_seq),
posted as (
  insert into credit_transactions
    (id, user_id, seq, type, amount, balance_after, description, operation_type, external_order_id,
     external_product_id, performed_by_id, idempotency_key, generation_id, payment_id, metadata, created_at)
  select ${$(7)}, user_id, ledger_seq, ${$(8)}, ${amount}, balance, ${$(9)}, ${$(10)}, ${$(11)}, ${$(12)},
         ${$(13)}, ${$(14)}, ${$(15)}, ${$(16)}, ${$(17)}::jsonb, now()
    from moved
  returning id, user_id, seq, amount, balance_after, created_at)${
    options.drain
      ? `,
drained as (
  select credit_grants_drain(user_id, -amount, id) as taken from posted where amount < 0)`
      : ''
  }`;
}

/** A posting's parameters, in postingCtes' order. */
function postingParams(posting: Posting): unknown[] {
  if (!Number.isSafeInteger(posting.amount) || posting.amount === 0) {
    throw new AppError('bad_request', 'A credit amount must be a non-zero integer');
  }
  const totals: Record<BalanceTotal, number> = {
    totalPurchased: 0,
    totalGranted: 0,
    totalUsed: 0,
    totalRefunded: 0,
    totalClawedBack: 0,
  };
  const total = BALANCE_TOTAL_OF_TYPE[posting.type];
  totals[total] = NEGATED_TOTALS.includes(total) ? -posting.amount : posting.amount;
  return [
    posting.amount,
    totals.totalPurchased,
    totals.totalGranted,
    totals.totalUsed,
    totals.totalRefunded,
    totals.totalClawedBack,
    posting.userId,
    uuidv7(),
    posting.type,
    posting.description ?? null,
    posting.operationType ?? null,
    posting.externalOrderId ?? null,
    posting.externalProductId ?? null,
    posting.performedBy ?? null,
    posting.idempotencyKey ?? null,
    posting.generationId ?? null,
    posting.paymentId ?? null,
    posting.metadata ? JSON.stringify(posting.metadata) : null,
  ];
}

/** What a posting statement returns: the ledger row. */
const POSTED_COLUMNS = 'id, seq, amount, balance_after, created_at';

/** How many parameters a hold takes (see holdParams); with an API key, one more. */
export const HOLD_PARAM_COUNT = 4;
export const KEYED_HOLD_PARAM_COUNT = 5;
/** Where the user id is among a hold's parameters. */
export const HOLD_USER_INDEX = 1;

/**
 * A hold as the CTEs of one statement (generations.create's), its parameters numbered from `$first`
 * on (values: holdParams), placed only when `when` (SQL) holds:
 *
 * - `held`: the balance row's `held` rises by the amount only if the available balance covers it —
 *   the conditional UPDATE re-checks against the latest committed row, so concurrent holds can
 *   never overdraw. This takes the balance row's lock first, as every ledger change does.
 * - `spent` (`keyed`): the API key's spend of the UTC day rises by the amount, only within the key's
 *   daily budget (api_keys.max_credits_per_day, read in the statement): an upsert whose conditional
 *   DO UPDATE re-checks the latest count under that row's lock, so parallel requests through one
 *   key cannot pass the budget together. Taken after the balance row (releases lock in that order).
 * - `hold`: the hold row (open), written only when both moved.
 * - `reserved`: credit_grants_reserve() takes the amount from expiring grants, soonest expiry first,
 *   recording each part as an allocation of the hold (so an expiry while held cannot take credits
 *   the hold needs, and a release gives them back where they came from).
 *
 * The statement's answer tells which part refused: `funded` (the balance) and `within_budget`.
 */
export function holdCtes(first: number, options: { keyed: boolean; when?: string }): string {
  const $ = (i: number) => `$${first + i}`;
  const amount = `${$(0)}::int`;
  const key = options.keyed ? `${$(4)}::uuid` : 'null::uuid';
  return `held as (
  update credit_balances set held = held + ${amount}, updated_at = now()
   where user_id = ${$(HOLD_USER_INDEX)} and balance - held >= ${amount}${options.when ? ` and ${options.when}` : ''}
  returning user_id),${
    options.keyed
      ? `
key_budget as (select coalesce(max_credits_per_day, 2147483647) as budget from api_keys where id = ${key}),
spent as (
  insert into api_key_daily_spend as s (api_key_id, day, credits, updated_at)
  select ${key}, (now() at time zone 'UTC')::date, ${amount}, now()
   where exists (select 1 from held) and ${amount} <= (select budget from key_budget)
  on conflict (api_key_id, day) do update set credits = s.credits + excluded.credits, updated_at = now()
   where s.credits + excluded.credits <= (select budget from key_budget)
  returning credits),`
      : ''
  }
hold as (
  insert into credit_holds (id, user_id, generation_id, amount, status, api_key_id, created_at)
  select ${$(2)}, user_id, ${$(3)}, ${amount}, 'open', ${key}, now() from held${
    options.keyed ? ' where exists (select 1 from spent)' : ''
  }
  returning id, user_id, amount),
reserved as (select credit_grants_reserve(user_id, amount, id) as taken from hold)`;
}

/** A hold's parameters, in holdCtes' order. */
export function holdParams(hold: {
  userId: string;
  amount: number;
  generationId: string;
  apiKeyId?: string | null;
}): unknown[] {
  if (!Number.isSafeInteger(hold.amount) || hold.amount <= 0) {
    throw new AppError('bad_request', 'A hold must be a positive whole number of credits');
  }
  const params = [hold.amount, hold.userId, uuidv7(), hold.generationId];
  return hold.apiKeyId ? [...params, hold.apiKeyId] : params;
}

/** Why a hold placed through an API key was refused: its daily budget (the caller's error). */
export async function budgetExceeded(em: EntityManager, apiKeyId: string, amount: number) {
  const [row] = await sql<{ budget: number | null; spent: number | null }>(
    em,
    `select k.max_credits_per_day as budget, s.credits as spent
       from api_keys k
       left join api_key_daily_spend s on s.api_key_id = k.id and s.day = (now() at time zone 'UTC')::date
      where k.id = $1`,
    [apiKeyId],
  );
  const budget = Number(row?.budget ?? 0);
  const spent = Number(row?.spent ?? 0);
  return new AppError(
    'budget_exceeded',
    `This API key's daily budget is ${budget} credits; ${spent} are used today, and this needs ${amount}. ` +
      'The budget resets at 00:00 UTC.',
  );
}

const CAPTURE_SQL = prepared(`
with h as (
  update credit_holds set status = 'captured', settled_at = now(), transaction_id = $2
   where generation_id = $1 and status = 'open'
  returning id, user_id, amount),
moved as (
  update credit_balances b
     set balance = b.balance - h.amount, held = b.held - h.amount, total_used = b.total_used + h.amount,
         ledger_seq = b.ledger_seq + 1, last_transaction_at = now(), updated_at = now()
    from h
   where b.user_id = h.user_id
  returning b.user_id, b.balance, b.ledger_seq, h.amount),
posted as (
  insert into credit_transactions
    (id, user_id, seq, type, amount, balance_after, description, operation_type, generation_id, created_at)
  select $2, user_id, ledger_seq, 'usage', -amount, balance, $3, $4, $1, now() from moved
  returning amount),
moved_allocations as (
  update credit_grant_allocations a set transaction_id = $2, updated_at = now()
    from h where a.hold_id = h.id
  returning a.id)
select (select -amount from posted) as captured, (select count(*) from moved_allocations)::int as allocations`);

/**
 * The generation succeeded: its open hold becomes one `usage` ledger row, in one statement — the
 * balance and `held` fall together (the available balance does not move), the ledger row is
 * appended, and the grant allocations the hold reserved move to that row. Returns the credits
 * captured; null when the generation has no open hold (captured or released before, or charged at
 * create before holds existed).
 */
export async function captureHold(
  em: EntityManager,
  generationId: string,
  links: { operationType: OperationType; description: string },
): Promise<number | null> {
  const [row] = await sql<{ captured: number | null }>(em, CAPTURE_SQL, [
    generationId,
    uuidv7(),
    links.description,
    links.operationType,
  ]);
  return row?.captured == null ? null : Number(row.captured);
}

const RELEASE_COLUMNS = `h.id, h.user_id, h.amount, h.api_key_id, to_char(h.created_at at time zone 'UTC', 'YYYY-MM-DD') as day,
       exists (select 1 from unheld) as unheld,
       exists (select 1 from credit_grant_allocations a where a.hold_id = h.id) as reserved`;
const releaseSql = (match: string) =>
  prepared(`
with h as (
  update credit_holds set status = 'released', settled_at = now()
   where ${match} = $1 and status = 'open'
  returning id, user_id, amount, api_key_id, created_at),
unheld as (
  update credit_balances b set held = b.held - h.amount, updated_at = now()
    from h where b.user_id = h.user_id
  returning b.user_id)
select ${RELEASE_COLUMNS} from h`);
const RELEASE_BY_GENERATION_SQL = releaseSql('generation_id');
const RELEASE_BY_ID_SQL = releaseSql('id');

type ReleasedRow = {
  id: string;
  user_id: string;
  amount: number;
  api_key_id: string | null;
  day: string;
  unheld: boolean;
  reserved: boolean;
};

export type ReleaseOutcome =
  /** Released now: the credits are available again (less any part forfeited to a lapsed grant). */
  | { status: 'released'; amount: number; forfeited: number }
  /** Captured or released before: nothing changed. */
  | { status: 'settled' }
  /** No hold for this generation: it was charged at create (before holds), or cost nothing. */
  | { status: 'none' };

/**
 * The generation failed, was canceled or can no longer finish: its open hold is released — `held`
 * falls, the API key's spend of the hold's day is given back, and what the hold reserved from
 * grants returns to them (same expiry). A part whose grant expired or was clawed back while held is
 * forfeited: it leaves the balance as one `expiration` row (key `release:<hold id>`), as the grant's
 * expiry would have taken it. No ledger row otherwise. Exactly once (conditional on `open`).
 */
export async function releaseHold(
  em: EntityManager,
  target: { generationId: string } | { holdId: string },
): Promise<ReleaseOutcome> {
  const byGeneration = 'generationId' in target;
  const [row] = await sql<ReleasedRow>(em, byGeneration ? RELEASE_BY_GENERATION_SQL : RELEASE_BY_ID_SQL, [
    byGeneration ? target.generationId : target.holdId,
  ]);
  if (!row) {
    if (!byGeneration) return { status: 'settled' };
    const [existing] = await sql<{ status: string }>(
      em,
      'select status from credit_holds where generation_id = $1',
      [target.generationId],
    );
    return existing ? { status: 'settled' } : { status: 'none' };
  }
  if (!row.unheld) throw new Error(`hold ${row.id}: its user has no balance row`);
  const amount = Number(row.amount);
  // The balance row is locked now (by `unheld`): no grant of this user moves under us.
  const forfeited = row.reserved ? await returnReservations(em, row) : 0;
  if (row.api_key_id) {
    await sql(
      em,
      `update api_key_daily_spend set credits = credits - $3, updated_at = now()
        where api_key_id = $1 and day = $2::date`,
      [row.api_key_id, row.day, amount],
    );
  }
  return { status: 'released', amount, forfeited };
}

async function returnReservations(em: EntityManager, hold: ReleasedRow): Promise<number> {
  const parts = await sql<{ id: string; grant_id: string; amount: number; gone: boolean }>(
    em,
    `select a.id, a.grant_id, a.amount,
            (g.expires_at <= now() or g.expired_at is not null or g.revoked_at is not null) as gone
       from credit_grant_allocations a join credit_grants g on g.id = a.grant_id
      where a.hold_id = $1 and a.returned = 0 and a.forfeited = 0`,
    [hold.id],
  );
  const live = parts.filter((part) => !part.gone);
  const lapsed = parts.filter((part) => part.gone);
  if (live.length) {
    await sql(
      em,
      `with parts as (select unnest($1::uuid[]) as id),
            returned as (
              update credit_grant_allocations a set returned = a.amount, updated_at = now()
                from parts where a.id = parts.id
              returning a.grant_id, a.amount)
       update credit_grants g set remaining = g.remaining + r.amount, updated_at = now()
         from (select grant_id, sum(amount)::int as amount from returned group by grant_id) r
        where g.id = r.grant_id`,
      [live.map((part) => part.id)],
    );
  }
  const forfeited = lapsed.reduce((sum, part) => sum + Number(part.amount), 0);
  if (forfeited > 0) {
    await sql(
      em,
      'update credit_grant_allocations set forfeited = amount, updated_at = now() where id = any($1::uuid[])',
      [lapsed.map((part) => part.id)],
    );
    const row = await postRow(em, {
      userId: hold.user_id,
      type: 'expiration',
      amount: -forfeited,
      description: 'Held credits of a grant that lapsed meanwhile',
      idempotencyKey: `release:${hold.id}`,
      metadata: {
        holdId: hold.id,
        forfeited: lapsed.map((part) => ({ grantId: part.grant_id, amount: Number(part.amount) })),
      },
      drainGrants: false,
    });
    if (!row) throw new Error(`hold ${hold.id}: the balance does not cover the lapsed credits`);
  }
  return forfeited;
}

/** Open holds whose generation row is gone (deleted): nothing will ever settle them. */
export async function orphanedHolds(em: EntityManager, limit = 1000): Promise<string[]> {
  const rows = await sql<{ id: string }>(
    em,
    `select id from credit_holds where generation_id is null and status = 'open' limit $1`,
    [limit],
  );
  return rows.map((row) => row.id);
}

/** Credits held or spent today (UTC) through each of `apiKeyIds`. */
export async function todaysSpendByKey(em: EntityManager, apiKeyIds: string[]): Promise<Map<string, number>> {
  if (!apiKeyIds.length) return new Map();
  const rows = await sql<{ api_key_id: string; credits: number }>(
    em,
    `select api_key_id, credits from api_key_daily_spend
      where api_key_id = any($1::uuid[]) and day = (now() at time zone 'UTC')::date`,
    [apiKeyIds],
  );
  return new Map(rows.map((row) => [row.api_key_id, Number(row.credits)]));
}

// A debit that drains grants (credits that drains nothing pass through unchanged: see `drained`).
const POST_SQL = prepared(`
with ${postingCtes(1, { drain: true })}
select ${POSTED_COLUMNS}, (select coalesce(sum(taken), 0) from drained) as drained from posted`);

// A posting that drains no grant: credits, expirations, clawbacks that take from grants themselves.
const POST_WITHOUT_DRAIN_SQL = prepared(`
with ${postingCtes(1, { drain: false })}
select ${POSTED_COLUMNS} from posted`);

type PostRow = { id: string; seq: number; amount: number; balance_after: number; created_at: Date };

/** A posting's statement and parameters (validates the amount): a debit drains grants unless `drainGrants` is false. */
function postingStatement(posting: Posting): { text: string; params: unknown[] } {
  const params = postingParams(posting);
  return {
    text: posting.amount < 0 && posting.drainGrants !== false ? POST_SQL : POST_WITHOUT_DRAIN_SQL,
    params,
  };
}

/**
 * Runs a posting as it stands — no savepoint, no replay of an earlier key (post() adds those): the
 * ledger row, or undefined when the balance does not cover the debit.
 */
async function postRow(em: EntityManager, posting: Posting): Promise<PostRow | undefined> {
  const { text, params } = postingStatement(posting);
  return (await sql<PostRow>(em, text, params))[0];
}

/** Appends one ledger row and moves the balance with it (and drains grants for a debit), in one statement. */
export async function post(em: EntityManager, posting: Posting): Promise<PostedTransaction> {
  const { text, params } = postingStatement(posting);
  const insert = async (tx: EntityManager) => {
    const row = (await sql<PostRow>(tx, text, params))[0];
    if (!row) throw noPosting(posting.amount);
    return { ...fromRow(row), replayed: false };
  };

  if (!posting.idempotencyKey) return insert(em);
  try {
    // A savepoint (or a transaction of its own): a unique violation must not poison the caller's.
    return await em.transactional(insert);
  } catch (error) {
    if (
      !(error instanceof UniqueConstraintViolationException) ||
      !String(error.message).includes(IDEMPOTENCY_CONSTRAINT)
    ) {
      throw error;
    }
    return replay(em, posting);
  }
}

/** Why a posting moved nothing: a debit the balance does not cover, or no balance row at all. */
export const noPosting = (amount: number) =>
  amount < 0
    ? new AppError('insufficient_credits', 'Not enough credits for this operation')
    : new AppError('not_found', 'This account has no credit balance');

async function replay(em: EntityManager, posting: Posting): Promise<PostedTransaction> {
  const earlier = await em.findOneOrFail(
    CreditTransaction,
    { user: posting.userId, idempotencyKey: posting.idempotencyKey },
    { disableIdentityMap: true },
  );
  if (earlier.type !== posting.type || earlier.amount !== posting.amount) {
    throw new AppError('conflict', 'This idempotency key was already used for a different operation');
  }
  return {
    id: earlier.id,
    seq: earlier.seq,
    amount: earlier.amount,
    balanceAfter: earlier.balanceAfter,
    createdAt: earlier.createdAt,
    replayed: true,
  };
}

const fromRow = (row: PostRow) => ({
  id: row.id,
  seq: Number(row.seq),
  amount: Number(row.amount),
  balanceAfter: Number(row.balance_after),
  createdAt: new Date(row.created_at),
});

const positive = (amount: number) => {
  if (!Number.isSafeInteger(amount) || amount <= 0) {
    throw new AppError('bad_request', 'A credit amount must be a positive integer');
  }
  return amount;
};

/** Takes credits for an operation; PAYMENT_REQUIRED (insufficient_credits) when short. */
export function spend(
  em: EntityManager,
  userId: string,
  amount: number,
  operationType: OperationType,
  links: Pick<Posting, 'description' | 'metadata' | 'generationId'> = {},
  idempotencyKey?: string | null,
): Promise<PostedTransaction> {
  return post(em, {
    userId,
    type: 'usage',
    amount: -positive(amount),
    operationType,
    idempotencyKey,
    ...links,
  });
}

export type GrantType = Exclude<
  CreditTransactionType,
  'usage' | 'refund' | 'expiration' | 'clawback' | 'reinstatement'
>;

/**
 * Adds credits: a sign-up bonus, a purchase, a subscription grant, a promo, an admin credit.
 * With `expiresAt`, the credits are a CreditGrant: spent before credits that never expire, and
 * what is left at `expiresAt` is taken back by the expiry job (expireGrants).
 */
export async function grant(
  em: EntityManager,
  userId: string,
  amount: number,
  type: GrantType,
  links: Omit<Posting, 'userId' | 'type' | 'amount'> & { expiresAt?: Date | null } = {},
): Promise<PostedTransaction> {
  const { expiresAt, ...rest } = links;
  const posted = await post(em, { ...rest, userId, type, amount: positive(amount) });
  if (expiresAt && !posted.replayed) {
    await sql(
      em,
      `insert into credit_grants (id, user_id, source_transaction_id, amount, remaining, expires_at, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, now(), now())`,
      [uuidv7(), userId, posted.id, amount, amount, expiresAt],
    );
  }
  return posted;
}

/** Live expiring credits of a user, soonest first. */
export async function liveGrants(em: EntityManager, userId: string) {
  const rows = await em.find(
    CreditGrant,
    { user: userId, remaining: { $gt: 0 }, expiresAt: { $gt: new Date() } },
    { orderBy: { expiresAt: 'asc', id: 'asc' } },
  );
  return rows.map((row) => ({
    id: row.id,
    amount: row.amount,
    remaining: row.remaining,
    expiresAt: row.expiresAt,
  }));
}

/**
 * Takes back what is left of grants that expired by `now`: one `expiration` ledger row per grant,
 * keyed `expire:<grant id>` so a re-run (or a concurrent one) expires nothing twice. Each grant is
 * its own short transaction; returns how many grants were expired.
 */
export async function expireGrants(
  em: EntityManager,
  options: { now?: Date; batchSize?: number } = {},
): Promise<number> {
  const now = options.now ?? new Date();
  const due = await sql<{ id: string; user_id: string }>(
    em,
    'select id, user_id from credit_grants where remaining > 0 and expires_at <= $1 order by expires_at limit $2',
    [now, options.batchSize ?? 1000],
  );
  let expired = 0;
  for (const grantRow of due) {
    const done = await em.fork().transactional(async (tx) => {
      // Lock the balance first (as every debit does), then the grant: same order, no deadlock.
      const balance = await sql<{ balance: number }>(
        tx,
        'select balance - held as balance from credit_balances where user_id = $1 for update',
        [grantRow.user_id],
      );
      const locked = await sql<{ remaining: number }>(
        tx,
        'select remaining from credit_grants where id = $1 and remaining > 0 for update',
        [grantRow.id],
      );
      // Debits drain grants first (expired-but-unswept ones too) and holds reserve from them, so the
      // available balance always covers what is left; least() only guards the invariant. What open
      // holds reserved from this grant stays theirs (captured, or forfeited when released).
      const remaining = Math.min(Number(locked[0]?.remaining ?? 0), Number(balance[0]?.balance ?? 0));
      if (remaining <= 0) {
        await sql(
          tx,
          'update credit_grants set remaining = 0, expired_at = $1, updated_at = now() where id = $2',
          [now, grantRow.id],
        );
        return false;
      }
      await sql(
        tx,
        'update credit_grants set remaining = 0, expired_at = $1, updated_at = now() where id = $2',
        [now, grantRow.id],
      );
      await insertExpiration(tx, grantRow.user_id, remaining, grantRow.id);
      record(
        tx,
        SYSTEM,
        'credits.expired',
        { type: 'user', id: grantRow.user_id },
        { grantId: grantRow.id, amount: remaining },
      );
      return true;
    });
    if (done) expired++;
  }
  return expired;
}

// An expiration must not drain other expiring grants (post() does that for ordinary debits).
async function insertExpiration(em: EntityManager, userId: string, amount: number, grantId: string) {
  const row = await postRow(em, {
    userId,
    type: 'expiration',
    amount: -amount,
    description: 'Expired credits',
    idempotencyKey: `expire:${grantId}`,
    metadata: { grantId },
    drainGrants: false,
  });
  if (!row) throw new AppError('conflict', 'The balance does not cover the expiring credits');
}

/**
 * Gives back credits taken by an earlier spend. With `generationId`, the refund goes back where the
 * charge came from: what the charge drew from expiring grants returns to those grants (same expiry);
 * a part whose grant has since expired or been clawed back is forfeited — not turned into credits
 * that never expire. Returns null when everything was forfeited (no ledger row then).
 */
export async function refund(
  em: EntityManager,
  userId: string,
  amount: number,
  links: Omit<Posting, 'userId' | 'type' | 'amount'> = {},
): Promise<PostedTransaction | null> {
  positive(amount);
  if (!links.generationId) return post(em, { ...links, userId, type: 'refund', amount });
  // The balance row first, as every debit and the expiry job lock it: from here on no grant of this
  // user can be drained or expired under us.
  await lockBalance(em, userId);
  const draws = await sql<{ id: string; grant_id: string; open: number; forfeited: number; gone: boolean }>(
    em,
    `select a.id, a.grant_id, a.amount - a.returned - a.forfeited as open, a.forfeited,
            (g.expires_at <= now() or g.expired_at is not null or g.revoked_at is not null) as gone
       from credit_transactions t
       join credit_grant_allocations a on a.transaction_id = t.id
       join credit_grants g on g.id = a.grant_id
      where t.user_id = $1 and t.generation_id = $2 and t.type = 'usage'`,
    [userId, links.generationId],
  );
  const forfeitNow = draws.filter((d) => d.gone && Number(d.open) > 0);
  const returnNow = draws.filter((d) => !d.gone && Number(d.open) > 0);
  const forfeited =
    draws.reduce((sum, d) => sum + Number(d.forfeited), 0) +
    forfeitNow.reduce((sum, d) => sum + Number(d.open), 0);
  const refundable = amount - forfeited;
  let posted: PostedTransaction | null = null;
  if (refundable > 0) {
    posted = await post(em, {
      ...links,
      userId,
      type: 'refund',
      amount: refundable,
      metadata: { ...links.metadata, ...(forfeited > 0 ? { forfeited } : {}) },
    });
    if (posted.replayed) return posted;
  }
  for (const draw of forfeitNow) {
    await sql(
      em,
      'update credit_grant_allocations set forfeited = forfeited + $1, updated_at = now() where id = $2',
      [Number(draw.open), draw.id],
    );
  }
  for (const draw of returnNow) {
    await sql(
      em,
      'update credit_grant_allocations set returned = returned + $1, updated_at = now() where id = $2',
      [Number(draw.open), draw.id],
    );
    await sql(em, 'update credit_grants set remaining = remaining + $1, updated_at = now() where id = $2', [
      Number(draw.open),
      draw.grant_id,
    ]);
  }
  return posted;
}

/** Locks the user's balance row; returns the available balance (balance − held). */
async function lockBalance(em: EntityManager, userId: string) {
  const rows = await sql<{ balance: number }>(
    em,
    'select balance - held as balance from credit_balances where user_id = $1 for update',
    [userId],
  );
  if (!rows[0]) throw new AppError('not_found', 'This account has no credit balance');
  return Number(rows[0].balance);
}

export type ClawbackResult = {
  /** Credits actually taken back (a `clawback` ledger row when > 0). */
  clawed: number;
  /** Credits wanted but already spent: never taken, the balance stays >= 0. */
  uncollected: number;
  transactionId: string | null;
};

/**
 * Takes back up to `wanted` unspent credits of a refunded or disputed payment, in one ledger row
 * (`clawback`, never below zero). With `grantIds` (a subscription invoice's grants) only what is
 * left of those grants is taken, and `revoke` closes them (nothing is ever returned to them again);
 * without, only credits that never expire are taken (a package purchase), never other expiring
 * grants. What cannot be taken was spent: the caller records it as uncollected.
 */
export async function clawBack(
  em: EntityManager,
  claim: {
    userId: string;
    wanted: number;
    grantIds: string[] | null;
    revoke?: boolean;
    idempotencyKey: string;
    paymentId: string;
    description: string;
    metadata?: Record<string, unknown>;
  },
): Promise<ClawbackResult> {
  const balance = await lockBalance(em, claim.userId);
  const earlier = await em.findOne(
    CreditTransaction,
    { user: claim.userId, idempotencyKey: claim.idempotencyKey },
    { disableIdentityMap: true },
  );
  if (earlier) return { clawed: -earlier.amount, uncollected: 0, transactionId: earlier.id };
  const takes: { id: string; amount: number }[] = [];
  let collectible: number;
  if (claim.grantIds) {
    const grants = claim.grantIds.length
      ? await sql<{ id: string; remaining: number }>(
          em,
          `select id, remaining from credit_grants
            where user_id = $1 and id = any($2::uuid[])
              and remaining > 0 and revoked_at is null and expires_at > now()
            order by expires_at desc, id for update`,
          [claim.userId, claim.grantIds],
        )
      : [];
    let left = Math.max(0, claim.wanted);
    for (const grant of grants) {
      const take = Math.min(left, Number(grant.remaining));
      if (take > 0) takes.push({ id: grant.id, amount: take });
      left -= take;
    }
    collectible = takes.reduce((sum, take) => sum + take.amount, 0);
  } else {
    const [expiring] = await sql<{ total: string }>(
      em,
      'select coalesce(sum(remaining), 0) as total from credit_grants where user_id = $1 and remaining > 0',
      [claim.userId],
    );
    collectible = Math.min(Math.max(0, claim.wanted), Math.max(0, balance - Number(expiring?.total ?? 0)));
  }
  let transactionId: string | null = null;
  if (collectible > 0) {
    const posted = await post(em, {
      userId: claim.userId,
      type: 'clawback',
      amount: -collectible,
      description: claim.description,
      paymentId: claim.paymentId,
      idempotencyKey: claim.idempotencyKey,
      drainGrants: false,
      metadata: { ...claim.metadata, grants: takes },
    });
    transactionId = posted.id;
    for (const take of takes) {
      await sql(em, 'update credit_grants set remaining = remaining - $1, updated_at = now() where id = $2', [
        take.amount,
        take.id,
      ]);
    }
  }
  if (claim.revoke && claim.grantIds?.length) {
    await sql(
      em,
      `update credit_grants set revoked_at = now(), updated_at = now()
        where user_id = $1 and id = any($2::uuid[]) and revoked_at is null`,
      [claim.userId, claim.grantIds],
    );
  }
  record(
    em,
    SYSTEM,
    'credits.clawed_back',
    { type: 'user', id: claim.userId },
    {
      paymentId: claim.paymentId,
      wanted: claim.wanted,
      clawed: collectible,
      uncollected: Math.max(0, claim.wanted) - collectible,
      transactionId,
      ...claim.metadata,
    },
  );
  return { clawed: collectible, uncollected: Math.max(0, claim.wanted) - collectible, transactionId };
}

/**
 * Gives back exactly what a clawback took (a won dispute): one `reinstatement` row; the part taken
 * from grants returns to them with their expiry (a grant that has expired meanwhile gets nothing
 * back, as for refunds). Once per clawback (idempotency key). Returns the credits reinstated.
 */
export async function reinstate(
  em: EntityManager,
  claim: { userId: string; clawbackTransactionId: string; idempotencyKey: string; description: string },
): Promise<number> {
  await lockBalance(em, claim.userId);
  const clawback = await em.findOne(
    CreditTransaction,
    { id: claim.clawbackTransactionId, user: claim.userId, type: 'clawback' },
    { disableIdentityMap: true },
  );
  if (!clawback) return 0;
  const earlier = await em.findOne(
    CreditTransaction,
    { user: claim.userId, idempotencyKey: claim.idempotencyKey },
    { disableIdentityMap: true },
  );
  if (earlier) return earlier.amount;
  const taken = ((clawback.metadata?.grants ?? []) as { id: string; amount: number }[]).filter(
    (take) => take.amount > 0,
  );
  const live = taken.length
    ? await sql<{ id: string }>(
        em,
        `select id from credit_grants where id = any($1::uuid[]) and expires_at > now()
            and expired_at is null for update`,
        [taken.map((take) => take.id)],
      )
    : [];
  const liveIds = new Set(live.map((row) => row.id));
  const lapsed = taken.filter((take) => !liveIds.has(take.id)).reduce((sum, take) => sum + take.amount, 0);
  const amount = -clawback.amount - lapsed;
  if (amount <= 0) return 0;
  await post(em, {
    userId: claim.userId,
    type: 'reinstatement',
    amount,
    description: claim.description,
    paymentId: clawback.payment?.id ?? null,
    idempotencyKey: claim.idempotencyKey,
    metadata: {
      clawback: clawback.id,
      grants: taken.filter((take) => liveIds.has(take.id)),
      ...(lapsed > 0 ? { lapsed } : {}),
    },
  });
  for (const take of taken.filter((t) => liveIds.has(t.id))) {
    await sql(
      em,
      'update credit_grants set remaining = remaining + $1, revoked_at = null, updated_at = now() where id = $2',
      [take.amount, take.id],
    );
  }
  record(
    em,
    SYSTEM,
    'credits.reinstated',
    { type: 'user', id: claim.userId },
    { clawback: clawback.id, amount, lapsed },
  );
  return amount;
}

/** Creates the user's (empty) balance row; every user has exactly one. Flushed by the caller. */
export function openBalance(em: EntityManager, user: User): void {
  em.create(CreditBalance, { user });
}

/** credits.balance's read (the bench's baseline sends it too). */
export const BALANCE_SQL = prepared(`
select balance, held, total_purchased, total_granted, total_used, total_refunded, total_clawed_back, last_transaction_at
  from credit_balances where user_id = $1`);

export async function balanceOf(em: EntityManager, userId: string) {
  // Read on every page view: a prepared select of the DTO's columns (no entity hydration).
  const rows = await sql<BalanceRow>(em, BALANCE_SQL, [userId]);
  const row = rows[0];
  if (!row) throw new AppError('not_found', 'This account has no credit balance');
  return {
    balance: Number(row.balance),
    held: Number(row.held),
    available: Number(row.balance) - Number(row.held),
    totalPurchased: Number(row.total_purchased),
    totalGranted: Number(row.total_granted),
    totalUsed: Number(row.total_used),
    totalRefunded: Number(row.total_refunded),
    totalClawedBack: Number(row.total_clawed_back),
    lastTransactionAt: row.last_transaction_at ? new Date(row.last_transaction_at) : null,
  } satisfies BalanceDto;
}

type BalanceRow = {
  balance: number;
  held: number;
  total_purchased: number;
  total_granted: number;
  total_used: number;
  total_refunded: number;
  total_clawed_back: number;
  last_transaction_at: Date | null;
};

/** The user's ledger, newest first, paged by the per-user sequence number. */
export async function history(em: EntityManager, userId: string, input: TransactionsQuery) {
  const rows = await em.find(
    CreditTransaction,
    {
      user: userId,
      ...(input.cursor ? { seq: { $lt: input.cursor } } : {}),
      ...(input.types?.length ? { type: { $in: input.types } } : {}),
      ...(input.from || input.to
        ? {
            createdAt: {
              ...(input.from ? { $gte: input.from } : {}),
              ...(input.to ? { $lte: input.to } : {}),
            },
          }
        : {}),
    },
    { orderBy: { seq: 'desc' }, limit: input.limit + 1 },
  );
  const page = rows.slice(0, input.limit);
  return {
    items: page.map(toTransactionDto),
    nextCursor: rows.length > input.limit ? (page.at(-1)?.seq ?? null) : null,
  };
}

/**
 * What the user spent over the last `days` days: per operation type (used, refunded, net, number of
 * charges) and per UTC day (every day present, zeros included, for charts). A refund counts against
 * the operation of the charge it refunds.
 */
export async function usage(em: EntityManager, userId: string, input: { days: number }) {
  const to = new Date();
  const from = new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth(), to.getUTCDate() - (input.days - 1)));
  const rows = await sql<{
    operation: OperationType | null;
    day: string;
    used: string;
    refunded: string;
    charges: string;
  }>(
    em,
    `select coalesce(t.operation_type, charge.operation_type) as operation,
            to_char(t.created_at at time zone 'UTC', 'YYYY-MM-DD') as day,
            sum(case when t.type = 'usage' then -t.amount else 0 end) as used,
            sum(case when t.type = 'refund' then t.amount else 0 end) as refunded,
            count(*) filter (where t.type = 'usage') as charges
       from credit_transactions t
       left join lateral (
         select u.operation_type from credit_transactions u
          where t.type = 'refund' and u.user_id = t.user_id and u.generation_id = t.generation_id and u.type = 'usage'
          limit 1) charge on true
      where t.user_id = $1 and t.type in ('usage', 'refund') and t.created_at >= $2
      group by 1, 2`,
    [userId, from],
  );
  const byOperation = new Map<
    string,
    { operation: OperationType; used: number; refunded: number; charges: number }
  >();
  const byDay = new Map<string, { day: string; used: number; refunded: number }>();
  for (let d = new Date(from); d <= to; d = new Date(d.getTime() + 86_400_000)) {
    const day = d.toISOString().slice(0, 10);
    byDay.set(day, { day, used: 0, refunded: 0 });
  }
  for (const row of rows) {
    const used = Number(row.used);
    const refunded = Number(row.refunded);
    if (row.operation) {
      const total = byOperation.get(row.operation) ?? {
        operation: row.operation,
        used: 0,
        refunded: 0,
        charges: 0,
      };
      total.used += used;
      total.refunded += refunded;
      total.charges += Number(row.charges);
      byOperation.set(row.operation, total);
    }
    const day = byDay.get(row.day);
    if (day) {
      day.used += used;
      day.refunded += refunded;
    }
  }
  return {
    from,
    to,
    byOperation: [...byOperation.values()]
      .map((total) => ({ ...total, net: total.used - total.refunded }))
      .sort((a, b) => b.net - a.net),
    byDay: [...byDay.values()],
  };
}
