// Subscriptions as the providers report them, and the credits they grant.
//
// State: one row per provider subscription, written only by an event that is newer than the stored
// one. Canceled is terminal. Events of the same second are ordered by status precedence
// (incomplete < trialing < active < past_due < unpaid/paused < canceled), then by event type
// (created < updated < deleted) and id — never
// by arrival order (with a Stripe key, stripe-events re-reads the subscription on a tie first). A
// user has at most one live subscription (a partial unique index): a second one arriving from a
// provider (two checkouts paid in two tabs) is stored canceled and reported so the caller cancels it
// at the provider.
//
// Credits: a paid creation or renewal invoice grants the credits sold with the subscription,
// expiring at the end of the period; a yearly subscription grants them every month instead, each
// grant expiring at the end of its month, exactly once per (subscription, month): the invoice grants
// the first month and the `billing-cycle` job the others. An upgrade within a period grants the
// credit difference for what is left of it (of the month, for yearly plans), once.
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  type BillingInterval,
  isLiveSubscription,
  type PaymentProvider,
  type SubscriptionStatus,
} from '../../../shared/schemas/billing.ts';
import { uuidv7 } from '../../common/ids.ts';
import { sql } from '../../db/sql.ts';
import { record, SYSTEM } from '../audit/audit.service.ts';
import * as credits from '../credits/credits.service.ts';
import { recordPayment } from './billing.service.ts';
import { Plan } from './plan.entity.ts';
import { Subscription } from './subscription.entity.ts';
import { SubscriptionEvent } from './subscription-event.entity.ts';

export type SubscriptionState = {
  provider: PaymentProvider;
  externalSubscriptionId: string;
  userId: string;
  planId: string | null;
  status: SubscriptionStatus;
  priceId: string | null;
  amountCents: number | null;
  currency: string | null;
  interval: BillingInterval | null;
  intervalCount: number;
  trialStart: Date | null;
  trialEnd: Date | null;
  currentPeriodStart: Date | null;
  currentPeriodEnd: Date | null;
  cancelAtPeriodEnd: boolean;
  canceledAt: Date | null;
  /** Credits per month sold with it (checkout metadata), when it names the same plan. */
  creditsPerPeriod: number | null;
  /** When the provider produced this state (the event's creation time). */
  occurredAt: Date;
  /**
   * The last tie-break between same-second states: the event type's rank (created < updated <
   * deleted) then its id, e.g. `1:evt_…`; null for a state read from the provider's API.
   */
  eventKey: string | null;
  eventType: string;
};

/** Same-second precedence: a later stage of the lifecycle wins a tie; canceled never changes. */
const STATUS_RANK: Record<SubscriptionStatus, number> = {
  incomplete: 0,
  trialing: 1,
  active: 2,
  past_due: 3,
  unpaid: 4,
  paused: 4,
  canceled: 9,
};

const LIVE_INDEX = 'subscriptions_one_live_per_user';

type StoredRow = {
  id: string;
  user_id: string;
  plan_id: string | null;
  status: SubscriptionStatus;
  provider_updated_at: Date;
  provider_event_key: string | null;
  current_period_start: Date | null;
  current_period_end: Date | null;
  credits_per_period: number | null;
  interval: BillingInterval | null;
  scheduled_plan_id: string | null;
  scheduled_interval: BillingInterval | null;
  scheduled_change_at: Date | null;
};

/** The tie-break key of an event: its type's rank, then its id. */
export const eventKeyOf = (eventType: string, eventId: string) => {
  const rank = /created$/.test(eventType) ? 0 : /(deleted|revoked)$/.test(eventType) ? 2 : 1;
  return `${rank}:${eventId}`;
};

export type ApplyOutcome = {
  /** The state was written (false: older, a losing tie, or the subscription is canceled). */
  applied: boolean;
  /** It would have been the user's second live subscription: stored canceled instead. */
  duplicate: boolean;
  subscriptionId: string | null;
};

/** Whether `incoming` beats the stored state. */
function wins(stored: StoredRow, incoming: SubscriptionState, force: boolean) {
  if (stored.status === 'canceled') return false;
  if (force) return true;
  const storedAt = new Date(stored.provider_updated_at).getTime();
  const at = incoming.occurredAt.getTime();
  if (at !== storedAt) return at > storedAt;
  const rank = STATUS_RANK[incoming.status] - STATUS_RANK[stored.status];
  if (rank !== 0) return rank > 0;
  return (incoming.eventKey ?? '') > (stored.provider_event_key ?? '');
}

async function lockStored(em: EntityManager, provider: PaymentProvider, externalId: string) {
  const rows = await sql<StoredRow>(
    em,
    `select id, user_id, plan_id, status, provider_updated_at, provider_event_key, current_period_start,
            current_period_end, credits_per_period, interval, scheduled_plan_id, scheduled_interval,
            scheduled_change_at
       from subscriptions where provider = $1 and external_subscription_id = $2 for update`,
    [provider, externalId],
  );
  return rows[0] ?? null;
}

/** The stored state's time, to detect a same-second tie before applying (stripe-events re-reads). */
export async function storedStateTime(em: EntityManager, provider: PaymentProvider, externalId: string) {
  const rows = await sql<{ provider_updated_at: Date; status: SubscriptionStatus }>(
    em,
    'select provider_updated_at, status from subscriptions where provider = $1 and external_subscription_id = $2',
    [provider, externalId],
  );
  return rows[0] ? { at: new Date(rows[0].provider_updated_at), status: rows[0].status } : null;
}

const isLiveViolation = (error: unknown) =>
  error instanceof UniqueConstraintViolationException && String(error.message).includes(LIVE_INDEX);

/**
 * Writes the subscription as the provider states it, unless the stored state wins (see the file
 * header). `force` (a fresh read from the provider) wins any tie but never revives a canceled one.
 */
export async function applySubscriptionState(
  em: EntityManager,
  state: SubscriptionState,
  options: { force?: boolean } = {},
): Promise<ApplyOutcome> {
  let stored = await lockStored(em, state.provider, state.externalSubscriptionId);
  if (!stored) {
    const inserted = await insertState(em, state);
    if (inserted === 'exists') stored = await lockStored(em, state.provider, state.externalSubscriptionId);
    else return inserted;
  }
  if (!stored || !wins(stored, state, options.force === true)) {
    return { applied: false, duplicate: false, subscriptionId: stored?.id ?? null };
  }
  try {
    await em.transactional((tx) => updateState(tx, stored, state));
  } catch (error) {
    if (!isLiveViolation(error)) throw error;
    await updateState(em, stored, { ...state, ...duplicateCancel(state) });
    await reportDuplicate(em, stored.id, state);
    await writeEvent(em, stored.user_id, state.planId ?? stored.plan_id, {
      ...state,
      ...duplicateCancel(state),
    });
    return { applied: true, duplicate: true, subscriptionId: stored.id };
  }
  await afterChange(em, stored, state);
  return { applied: true, duplicate: false, subscriptionId: stored.id };
}

const duplicateCancel = (state: SubscriptionState) => ({
  status: 'canceled' as const,
  cancelAtPeriodEnd: false,
  canceledAt: state.occurredAt,
  eventType: `${state.eventType} (duplicate)`,
});

async function insertState(em: EntityManager, state: SubscriptionState): Promise<ApplyOutcome | 'exists'> {
  const id = uuidv7();
  const insert = (tx: EntityManager, s: SubscriptionState) =>
    sql<{ id: string }>(
      tx,
      `insert into subscriptions (id, user_id, plan_id, provider, external_subscription_id, status, price_id, amount,
                                  currency, interval, interval_count, trial_start, trial_end, current_period_start,
                                  current_period_end, cancel_at_period_end, canceled_at, provider_updated_at,
                                  provider_event_key, credits_per_period, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, now(), now())
       on conflict (external_subscription_id) do nothing
       returning id`,
      [id, s.userId, s.planId, s.provider, s.externalSubscriptionId, ...stateColumns(s)],
    );
  try {
    const rows = await em.transactional((tx) => insert(tx, state));
    if (!rows[0]) return 'exists';
  } catch (error) {
    if (!isLiveViolation(error)) throw error;
    const rows = await insert(em, { ...state, ...duplicateCancel(state) });
    if (!rows[0]) return 'exists';
    await reportDuplicate(em, id, state);
    await writeEvent(em, state.userId, state.planId, { ...state, ...duplicateCancel(state) });
    return { applied: true, duplicate: true, subscriptionId: id };
  }
  await writeEvent(em, state.userId, state.planId, state);
  return { applied: true, duplicate: false, subscriptionId: id };
}

/** The columns a state sets, in the order of the insert's and update's placeholders. */
function stateColumns(s: SubscriptionState) {
  return [
    s.status,
    s.priceId,
    s.amountCents === null ? null : (s.amountCents / 100).toFixed(2),
    s.currency?.toLowerCase() ?? null,
    s.interval,
    s.intervalCount,
    s.trialStart,
    s.trialEnd,
    s.currentPeriodStart,
    s.currentPeriodEnd,
    s.cancelAtPeriodEnd,
    s.canceledAt,
    s.occurredAt,
    s.eventKey,
    s.creditsPerPeriod,
  ];
}

async function updateState(em: EntityManager, stored: StoredRow, s: SubscriptionState) {
  const planChanged = s.planId !== null && s.planId !== stored.plan_id;
  await sql(
    em,
    `update subscriptions set status = $1, price_id = $2, amount = $3, currency = $4, interval = $5, interval_count = $6,
            trial_start = $7, trial_end = $8, current_period_start = $9, current_period_end = $10,
            cancel_at_period_end = $11, canceled_at = $12, provider_updated_at = $13, provider_event_key = $14,
            credits_per_period = coalesce($15, case when $16 then null else credits_per_period end),
            plan_id = coalesce($17, plan_id), updated_at = now()
      where id = $18`,
    [...stateColumns(s), planChanged, s.planId, stored.id],
  );
}

async function reportDuplicate(em: EntityManager, subscriptionId: string, state: SubscriptionState) {
  record(
    em,
    SYSTEM,
    'billing.duplicate_subscription',
    { type: 'subscription', id: subscriptionId },
    {
      provider: state.provider,
      subscription: state.externalSubscriptionId,
      userId: state.userId,
      note: 'A second live subscription for this user: stored canceled and canceled at the provider',
    },
  );
}

async function writeEvent(
  em: EntityManager,
  userId: string,
  planId: string | null,
  state: Pick<
    SubscriptionState,
    'status' | 'eventType' | 'occurredAt' | 'provider' | 'externalSubscriptionId' | 'cancelAtPeriodEnd'
  >,
) {
  const plan = planId ? await em.findOne(Plan, { id: planId }) : null;
  em.create(SubscriptionEvent, {
    user: userId,
    planKey: plan?.key ?? null,
    status: state.status,
    eventType: state.eventType,
    occurredAt: state.occurredAt,
    metadata: {
      provider: state.provider,
      subscription: state.externalSubscriptionId,
      cancelAtPeriodEnd: state.cancelAtPeriodEnd,
    },
  });
}

/** After a winning update: history, the upgrade's credit difference, a scheduled change that happened. */
async function afterChange(em: EntityManager, stored: StoredRow, state: SubscriptionState) {
  const planId = state.planId ?? stored.plan_id;
  await writeEvent(em, stored.user_id, planId, state);
  const samePeriod =
    stored.current_period_start !== null &&
    state.currentPeriodStart !== null &&
    new Date(stored.current_period_start).getTime() === state.currentPeriodStart.getTime();
  if (state.planId && stored.plan_id && state.planId !== stored.plan_id && samePeriod) {
    await grantUpgradeDifference(em, stored, state);
  }
  // A scheduled change is done once the plan switched to it, a new period began, or it ended.
  if (stored.scheduled_plan_id) {
    const reached =
      (state.planId !== null &&
        state.planId === stored.scheduled_plan_id &&
        (stored.scheduled_interval === null || state.interval === stored.scheduled_interval)) ||
      state.status === 'canceled' ||
      (stored.scheduled_change_at !== null &&
        state.currentPeriodStart !== null &&
        state.currentPeriodStart.getTime() >= new Date(stored.scheduled_change_at).getTime());
    if (reached) await clearScheduledChange(em, stored.id);
  }
}

async function creditsOf(em: EntityManager, planId: string, snapshot: number | null) {
  if (snapshot !== null) return snapshot;
  const plan = await em.findOne(Plan, { id: planId });
  return plan?.creditsPerPeriod ?? 0;
}

/** UTC calendar arithmetic: `months` after `from`, the day clamped to the month's length. */
export function addMonths(from: Date, months: number) {
  const d = new Date(from.getTime());
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return d;
}

/** The month of a (yearly) period that contains `at`: its index, start and end. */
export function monthOf(periodStart: Date, periodEnd: Date, at: Date) {
  let index = 0;
  while (index < 240 && addMonths(periodStart, index + 1).getTime() <= at.getTime()) index++;
  const start = addMonths(periodStart, index);
  const next = addMonths(periodStart, index + 1);
  return { index, start, end: next.getTime() < periodEnd.getTime() ? next : periodEnd };
}

/**
 * An upgrade within a period: the credit difference, prorated to what is left of the period (of
 * the month, for yearly plans) when the change happened, expiring with it. Once per
 * (subscription, period, plan). A downgrade takes nothing back (it waits for the period's end).
 */
async function grantUpgradeDifference(em: EntityManager, stored: StoredRow, state: SubscriptionState) {
  if (!isLiveSubscription(state.status) || !state.planId || !stored.plan_id) return;
  if (!state.currentPeriodStart || !state.currentPeriodEnd) return;
  const before = await creditsOf(em, stored.plan_id, stored.credits_per_period);
  const after = await creditsOf(em, state.planId, state.creditsPerPeriod);
  if (after <= before) return;
  const window =
    state.interval === 'year'
      ? monthOf(state.currentPeriodStart, state.currentPeriodEnd, state.occurredAt)
      : { start: state.currentPeriodStart, end: state.currentPeriodEnd };
  const length = window.end.getTime() - window.start.getTime();
  const left = Math.min(Math.max(window.end.getTime() - state.occurredAt.getTime(), 0), length);
  const amount = length > 0 ? Math.round(((after - before) * left) / length) : 0;
  if (amount <= 0) return;
  const plan = await em.findOne(Plan, { id: state.planId });
  const posted = await credits.grant(em, stored.user_id, amount, 'subscription_grant', {
    description: `Upgrade to ${plan?.name ?? 'a larger plan'}: ${after - before} more credits, prorated`,
    idempotencyKey: `upgrade:${state.provider}:${state.externalSubscriptionId}:${state.currentPeriodStart.getTime() / 1000}:${plan?.key ?? state.planId}`,
    expiresAt: window.end,
    metadata: { upgrade: { from: stored.plan_id, to: state.planId, before, after } },
  });
  if (!posted.replayed) {
    record(
      em,
      SYSTEM,
      'credits.upgrade_granted',
      { type: 'user', id: stored.user_id },
      { subscription: state.externalSubscriptionId, credits: amount, transactionId: posted.id },
    );
  }
}

/** A failed renewal: the subscription is past due (if the provider has not moved it on since). */
export async function markPastDue(
  em: EntityManager,
  provider: PaymentProvider,
  externalSubscriptionId: string,
  occurredAt: Date,
  eventType: string,
) {
  const rows = await sql<{ user_id: string; plan_id: string | null }>(
    em,
    `update subscriptions set status = 'past_due', provider_updated_at = $1, updated_at = now()
      where provider = $2 and external_subscription_id = $3 and provider_updated_at <= $4
        and status in ('active', 'trialing', 'past_due')
      returning user_id, plan_id`,
    [occurredAt, provider, externalSubscriptionId, occurredAt],
  );
  const row = rows[0];
  if (!row) return;
  await writeEvent(em, row.user_id, row.plan_id, {
    status: 'past_due',
    eventType,
    occurredAt,
    provider,
    externalSubscriptionId,
    cancelAtPeriodEnd: false,
  });
}

// ---- scheduled changes (downgrades, interval switches) ---------------------------------------

export async function scheduleChange(
  em: EntityManager,
  subscriptionId: string,
  planId: string,
  at: Date,
  interval: BillingInterval | null = null,
) {
  await sql(
    em,
    `update subscriptions set scheduled_plan_id = $1, scheduled_change_at = $2,
            scheduled_interval = coalesce($3, interval), updated_at = now() where id = $4`,
    [planId, at, interval, subscriptionId],
  );
}

export async function clearScheduledChange(em: EntityManager, subscriptionId: string) {
  await sql(
    em,
    `update subscriptions set scheduled_plan_id = null, scheduled_change_at = null, scheduled_interval = null,
            updated_at = now() where id = $1`,
    [subscriptionId],
  );
}

// ---- credits of paid invoices ----------------------------------------------------------------

/** Invoices that pay for a period of the plan (not a proration of a plan change, not a one-off). */
const GRANTING_REASONS = new Set([null, 'subscription_create', 'subscription_cycle', 'subscription']);

export type PaidInvoice = {
  provider: PaymentProvider;
  invoiceId: string;
  externalSubscriptionId: string;
  amountCents: number;
  currency: string;
  periodStart: Date | null;
  periodEnd: Date;
  billingReason: string | null;
  /** The plan the invoice's line charged for, when known (a scheduled change may precede its event). */
  planId?: string | null;
  receiptUrl?: string | null;
  paymentIntentId?: string | null;
  chargeId?: string | null;
};

/**
 * A paid subscription invoice (Stripe `invoice.paid`, Polar `order.paid` of a subscription): its
 * payment row, and for a creation or renewal the credits sold with the subscription — expiring at
 * the period's end, or for a yearly plan the first month's (the billing-cycle job grants the others).
 */
export async function grantForPaidInvoice(em: EntityManager, invoice: PaidInvoice) {
  const subscription = await em.findOne(
    Subscription,
    { provider: invoice.provider, externalSubscriptionId: invoice.externalSubscriptionId },
    { populate: ['plan'], refresh: true },
  );
  // Not known yet (the invoice overtook the subscription event): fail, and the redelivery applies it.
  if (!subscription) throw new Error(`Subscription ${invoice.externalSubscriptionId} is not known yet`);
  const invoicePlan =
    invoice.planId && invoice.planId !== subscription.plan?.id
      ? await em.findOne(Plan, { id: invoice.planId })
      : null;
  const planName = (invoicePlan ?? subscription.plan)?.name ?? 'Subscription';
  const grants = GRANTING_REASONS.has(invoice.billingReason);
  const payment = await recordPayment(em, {
    provider: invoice.provider,
    externalPaymentId: invoice.invoiceId,
    userId: subscription.user.id,
    kind: 'subscription',
    amountCents: invoice.amountCents,
    currency: invoice.currency,
    subscriptionId: subscription.id,
    description: grants
      ? `${planName} plan, ${subscription.interval === 'year' ? 'yearly' : 'monthly'}`
      : `${planName} plan — change of plan`,
    receiptUrl: invoice.receiptUrl ?? null,
    paymentIntentId: invoice.paymentIntentId ?? null,
    chargeId: invoice.chargeId ?? null,
    periodStart: invoice.periodStart,
    periodEnd: invoice.periodEnd,
  });
  if (!grants || payment.status !== 'succeeded') return null;
  const perPeriod = invoicePlan
    ? invoicePlan.creditsPerPeriod
    : (subscription.creditsPerPeriod ?? subscription.plan?.creditsPerPeriod ?? 0);
  if (perPeriod <= 0) return null;
  if (subscription.interval === 'year' && invoice.periodStart) {
    return grantMonth(em, {
      userId: subscription.user.id,
      provider: invoice.provider,
      externalSubscriptionId: invoice.externalSubscriptionId,
      planName,
      credits: perPeriod,
      paymentId: payment.id,
      invoiceId: invoice.invoiceId,
      periodStart: invoice.periodStart,
      periodEnd: invoice.periodEnd,
      at: new Date(Math.max(Date.now(), invoice.periodStart.getTime())),
    });
  }
  const posted = await credits.grant(em, subscription.user.id, perPeriod, 'subscription_grant', {
    description: `${planName} credits`,
    paymentId: payment.id,
    externalOrderId: invoice.invoiceId,
    idempotencyKey: `invoice:${invoice.provider}:${invoice.invoiceId}`,
    expiresAt: invoice.periodEnd,
  });
  if (!posted.replayed)
    auditGrant(em, subscription.user.id, invoice.invoiceId, perPeriod, invoice.periodEnd, posted.id);
  return posted;
}

function auditGrant(
  em: EntityManager,
  userId: string,
  invoiceId: string,
  amount: number,
  expiresAt: Date,
  transactionId: string,
) {
  record(
    em,
    SYSTEM,
    'credits.subscription_granted',
    { type: 'user', id: userId },
    { invoice: invoiceId, credits: amount, expiresAt: expiresAt.toISOString(), transactionId },
  );
}

/** One month of a yearly subscription's credits, expiring at the month's end; once per month. */
async function grantMonth(
  em: EntityManager,
  month: {
    userId: string;
    provider: PaymentProvider;
    externalSubscriptionId: string;
    planName: string;
    credits: number;
    paymentId: string;
    invoiceId: string;
    periodStart: Date;
    periodEnd: Date;
    at: Date;
  },
) {
  if (month.at.getTime() >= month.periodEnd.getTime()) return null;
  const { index, start, end } = monthOf(month.periodStart, month.periodEnd, month.at);
  const posted = await credits.grant(em, month.userId, month.credits, 'subscription_grant', {
    description: `${month.planName} credits for ${start.toISOString().slice(0, 10)} – ${end.toISOString().slice(0, 10)}`,
    paymentId: month.paymentId,
    externalOrderId: month.invoiceId,
    idempotencyKey: `month:${month.provider}:${month.externalSubscriptionId}:${month.periodStart.getTime() / 1000}:${index}`,
    expiresAt: end,
    metadata: { month: start.toISOString() },
  });
  if (!posted.replayed) auditGrant(em, month.userId, month.invoiceId, month.credits, end, posted.id);
  return posted;
}

/**
 * The billing-cycle job's part for yearly plans: every live yearly subscription whose paid period
 * covers `now` gets the current month's credits (once: the idempotency key is per month). Each
 * subscription in its own short transaction; returns how many grants were made.
 */
export async function grantDueMonthlyCredits(em: EntityManager, now = new Date()): Promise<number> {
  const due = await sql<{
    payment_id: string;
    external_payment_id: string;
    period_start: Date;
    period_end: Date;
    user_id: string;
    provider: PaymentProvider;
    external_subscription_id: string;
    credits: number | null;
    plan_name: string | null;
  }>(
    em,
    `select p.id as payment_id, p.external_payment_id, p.period_start, p.period_end, s.user_id, s.provider,
            s.external_subscription_id, coalesce(s.credits_per_period, pl.credits_per_period) as credits,
            pl.name as plan_name
       from payments p
       join subscriptions s on s.id = p.subscription_id
       left join plans pl on pl.id = s.plan_id
      where p.kind = 'subscription' and p.status = 'succeeded' and s.interval = 'year'
        and s.status in ('trialing', 'active', 'past_due')
        and p.period_start <= $1 and p.period_end > $2
        and exists (select 1 from credit_transactions t where t.payment_id = p.id and t.type = 'subscription_grant')`,
    [now, now],
  );
  let granted = 0;
  for (const row of due) {
    if (!row.credits || row.credits <= 0) continue;
    const posted = await em.fork().transactional((tx) =>
      grantMonth(tx, {
        userId: row.user_id,
        provider: row.provider,
        externalSubscriptionId: row.external_subscription_id,
        planName: row.plan_name ?? 'Subscription',
        credits: Number(row.credits),
        paymentId: row.payment_id,
        invoiceId: row.external_payment_id,
        periodStart: new Date(row.period_start),
        periodEnd: new Date(row.period_end),
        at: now,
      }),
    );
    if (posted && !posted.replayed) granted++;
  }
  return granted;
}

/** Plans by a provider's price or product (for events that name one), else by the metadata's key. */
export async function planForPrice(
  em: EntityManager,
  priceId: string | null | undefined,
  planKey?: string | null,
) {
  if (priceId) {
    const plan = await em.findOne(Plan, {
      $or: [{ externalPriceMonthlyId: priceId }, { externalPriceYearlyId: priceId }],
    });
    if (plan) return plan;
  }
  return planKey ? em.findOne(Plan, { key: planKey }) : null;
}

export async function planForPolarProduct(
  em: EntityManager,
  productId: string | null | undefined,
  planKey?: string | null,
) {
  if (productId) {
    const plan = await em.findOne(Plan, {
      $or: [
        { polarProductMonthlyId: productId },
        { polarProductYearlyId: productId },
        { externalProductId: productId },
      ],
    });
    if (plan) return plan;
  }
  return planKey ? em.findOne(Plan, { key: planKey }) : null;
}

/** Credits a provider's metadata says were sold, when the metadata names the same plan. */
export function soldCredits(metadata: Record<string, unknown> | null | undefined, plan: Plan | null) {
  if (!metadata || !plan || metadata.planKey !== plan.key) return null;
  const value = Number(metadata.credits);
  return Number.isSafeInteger(value) && value >= 0 ? value : null;
}
