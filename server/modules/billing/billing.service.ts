// Billing's rules, shared by the Stripe and Polar event handlers and the billing procedures:
// customers, package purchases (credited exactly once per external payment), subscription state
// (never overwritten by an older event), subscription credit grants that expire at period end.
import type { EntityManager } from '@mikro-orm/postgresql';
import type {
  BillingInterval,
  PaymentKind,
  PaymentProvider,
  SubscriptionStatus,
} from '../../../shared/schemas/billing.ts';
import { AppError } from '../../common/app-error.ts';
import { uuidv7 } from '../../common/ids.ts';
import { decodeCursor, newestFirstAfter, toPage } from '../../common/pagination.ts';
import { record, SYSTEM } from '../audit/audit.service.ts';
import * as credits from '../credits/credits.service.ts';
import { toPackageDto, toPaymentDto, toPlanDto, toSubscriptionDto } from './billing.dto.ts';
import { CreditPackage } from './credit-package.entity.ts';
import { Customer } from './customer.entity.ts';
import { Payment } from './payment.entity.ts';
import { Plan } from './plan.entity.ts';
import { Subscription } from './subscription.entity.ts';
import { SubscriptionEvent } from './subscription-event.entity.ts';

// ---- reads -----------------------------------------------------------------------------------

export async function listPlans(em: EntityManager) {
  const plans = await em.find(
    Plan,
    { active: true },
    { orderBy: { sortOrder: 'asc', priceMonthlyCents: 'asc' } },
  );
  return plans.map(toPlanDto);
}

export async function listPackages(em: EntityManager) {
  const packages = await em.find(
    CreditPackage,
    { active: true },
    { orderBy: { sortOrder: 'asc', credits: 'asc' } },
  );
  return packages.map(toPackageDto);
}

/** The user's most relevant subscription: a live one, else the latest. */
export async function findCurrentSubscription(em: EntityManager, userId: string) {
  const rows = await em.find(
    Subscription,
    { user: userId },
    { populate: ['plan'], orderBy: { providerUpdatedAt: 'desc' }, limit: 10 },
  );
  return rows.find((row) => ['trialing', 'active', 'past_due'].includes(row.status)) ?? rows[0] ?? null;
}

export async function subscriptionOverview(em: EntityManager, userId: string) {
  const subscription = await findCurrentSubscription(em, userId);
  return {
    subscription: subscription ? toSubscriptionDto(subscription) : null,
    grants: await credits.liveGrants(em, userId),
  };
}

export async function listPayments(
  em: EntityManager,
  userId: string,
  input: { cursor?: string | null | undefined; limit: number },
) {
  const rows = await em.find(
    Payment,
    { user: userId, ...newestFirstAfter(decodeCursor(input.cursor)) },
    { populate: ['creditPackage'], orderBy: { createdAt: 'desc', id: 'desc' }, limit: input.limit + 1 },
  );
  return toPage(rows as (Payment & { createdAt: Date })[], input.limit, toPaymentDto);
}

export async function findPlanByKey(em: EntityManager, key: string) {
  const plan = await em.findOne(Plan, { key, active: true });
  if (!plan) throw new AppError('not_found', 'No such plan');
  return plan;
}

export async function findPackage(em: EntityManager, id: string) {
  const pkg = await em.findOne(CreditPackage, { id, active: true });
  if (!pkg) throw new AppError('not_found', 'No such credit package');
  return pkg;
}

// ---- customers -------------------------------------------------------------------------------

export async function ensureCustomer(
  em: EntityManager,
  userId: string,
  provider: PaymentProvider,
  externalId: string,
) {
  await em.execute(
    `insert into customers (id, user_id, provider, external_customer_id, created_at, updated_at)
     values (?, ?, ?, ?, now(), now())
     on conflict (user_id, provider) do update set external_customer_id = excluded.external_customer_id, updated_at = now()`,
    [uuidv7(), userId, provider, externalId],
  );
}

export async function userOfCustomer(
  em: EntityManager,
  provider: PaymentProvider,
  externalId: string | null | undefined,
) {
  if (!externalId) return null;
  const customer = await em.findOne(Customer, { provider, externalCustomerId: externalId });
  return customer ? customer.user.id : null;
}

export async function customerOf(em: EntityManager, userId: string, provider: PaymentProvider) {
  return em.findOne(Customer, { user: userId, provider });
}

// ---- payments and purchases ------------------------------------------------------------------

type PaymentRecord = {
  provider: PaymentProvider;
  externalPaymentId: string;
  userId: string;
  kind: PaymentKind;
  amountCents: number;
  currency: string;
  packageId?: string | null;
  subscriptionId?: string | null;
};

/** Inserts the payment once per (provider, external id); returns its id either way. */
async function recordPayment(em: EntityManager, payment: PaymentRecord): Promise<string> {
  const rows = await em.execute<{ id: string }[]>(
    `insert into payments (id, user_id, provider, external_payment_id, kind, amount_cents, currency, status,
                           credit_package_id, subscription_id, created_at, updated_at)
     values (?, ?, ?, ?, ?, ?, ?, 'succeeded', ?, ?, now(), now())
     on conflict (provider, external_payment_id) do update set updated_at = payments.updated_at
     returning id`,
    [
      uuidv7(),
      payment.userId,
      payment.provider,
      payment.externalPaymentId,
      payment.kind,
      payment.amountCents,
      payment.currency.toLowerCase(),
      payment.packageId ?? null,
      payment.subscriptionId ?? null,
    ],
  );
  return rows[0]?.id as string;
}

/** A paid package order: its payment row and its `purchase` credits, exactly once per payment. */
export async function recordPackagePurchase(
  em: EntityManager,
  purchase: Omit<PaymentRecord, 'kind' | 'subscriptionId'> & {
    packageId: string;
    externalProductId?: string | null;
  },
) {
  const pkg = await em.findOne(CreditPackage, { id: purchase.packageId });
  if (!pkg) throw new AppError('not_found', `Unknown credit package ${purchase.packageId}`);
  const paymentId = await recordPayment(em, { ...purchase, kind: 'credit_package' });
  const posted = await credits.grant(em, purchase.userId, pkg.credits, 'purchase', {
    description: `${pkg.name} (${pkg.credits} credits)`,
    paymentId,
    externalOrderId: purchase.externalPaymentId,
    externalProductId: purchase.externalProductId ?? null,
    idempotencyKey: `purchase:${purchase.provider}:${purchase.externalPaymentId}`,
  });
  if (!posted.replayed) {
    record(
      em,
      SYSTEM,
      'credits.purchased',
      { type: 'user', id: purchase.userId },
      {
        provider: purchase.provider,
        payment: purchase.externalPaymentId,
        credits: pkg.credits,
        transactionId: posted.id,
      },
    );
  }
  return posted;
}

// ---- subscriptions ---------------------------------------------------------------------------

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
  /** When the provider produced this state (the event's creation time). */
  occurredAt: Date;
  eventType: string;
};

/**
 * Writes the subscription as the provider states it, unless a newer state is already stored
 * (events arrive out of order). Returns false when the state was older and ignored.
 */
export async function applySubscriptionState(em: EntityManager, state: SubscriptionState): Promise<boolean> {
  const amount = state.amountCents === null ? null : (state.amountCents / 100).toFixed(2);
  const rows = await em.execute<{ id: string }[]>(
    `insert into subscriptions (id, user_id, plan_id, provider, external_subscription_id, status, price_id, amount,
                                currency, interval, interval_count, trial_start, trial_end, current_period_start,
                                current_period_end, cancel_at_period_end, canceled_at, provider_updated_at,
                                created_at, updated_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), now())
     on conflict (external_subscription_id) do update set
       plan_id = coalesce(excluded.plan_id, subscriptions.plan_id), status = excluded.status,
       price_id = excluded.price_id, amount = excluded.amount, currency = excluded.currency,
       interval = excluded.interval, interval_count = excluded.interval_count,
       trial_start = excluded.trial_start, trial_end = excluded.trial_end,
       current_period_start = excluded.current_period_start, current_period_end = excluded.current_period_end,
       cancel_at_period_end = excluded.cancel_at_period_end, canceled_at = excluded.canceled_at,
       provider_updated_at = excluded.provider_updated_at, updated_at = now()
     where subscriptions.provider_updated_at <= excluded.provider_updated_at
     returning id`,
    [
      uuidv7(),
      state.userId,
      state.planId,
      state.provider,
      state.externalSubscriptionId,
      state.status,
      state.priceId,
      amount,
      state.currency?.toLowerCase() ?? null,
      state.interval,
      state.intervalCount,
      state.trialStart,
      state.trialEnd,
      state.currentPeriodStart,
      state.currentPeriodEnd,
      state.cancelAtPeriodEnd,
      state.canceledAt,
      state.occurredAt,
    ],
  );
  if (!rows[0]) return false;
  const plan = state.planId ? await em.findOne(Plan, { id: state.planId }) : null;
  em.create(SubscriptionEvent, {
    user: state.userId,
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
  return true;
}

/** A failed renewal: the subscription is past due (if the provider has not moved it on since). */
export async function markPastDue(
  em: EntityManager,
  provider: PaymentProvider,
  externalSubscriptionId: string,
  occurredAt: Date,
  eventType: string,
) {
  const rows = await em.execute<{ user_id: string; plan_id: string | null }[]>(
    `update subscriptions set status = 'past_due', provider_updated_at = ?, updated_at = now()
      where provider = ? and external_subscription_id = ? and provider_updated_at <= ?
        and status in ('active', 'trialing', 'past_due')
      returning user_id, plan_id`,
    [occurredAt, provider, externalSubscriptionId, occurredAt],
  );
  const row = rows[0];
  if (!row) return;
  const plan = row.plan_id ? await em.findOne(Plan, { id: row.plan_id }) : null;
  em.create(SubscriptionEvent, {
    user: row.user_id,
    planKey: plan?.key ?? null,
    status: 'past_due',
    eventType,
    occurredAt,
    metadata: { provider, subscription: externalSubscriptionId },
  });
}

/**
 * A paid subscription invoice: its payment row and the plan's credits as a `subscription_grant`
 * that expires at the end of the period it pays for. Exactly once per invoice.
 */
export async function grantForPaidInvoice(
  em: EntityManager,
  invoice: {
    provider: PaymentProvider;
    invoiceId: string;
    externalSubscriptionId: string;
    amountCents: number;
    currency: string;
    periodEnd: Date;
  },
) {
  const subscription = await em.findOne(
    Subscription,
    { provider: invoice.provider, externalSubscriptionId: invoice.externalSubscriptionId },
    { populate: ['plan'] },
  );
  // Not known yet (the invoice overtook the subscription event): fail, and the redelivery applies it.
  if (!subscription) throw new Error(`Subscription ${invoice.externalSubscriptionId} is not known yet`);
  const paymentId = await recordPayment(em, {
    provider: invoice.provider,
    externalPaymentId: invoice.invoiceId,
    userId: subscription.user.id,
    kind: 'subscription',
    amountCents: invoice.amountCents,
    currency: invoice.currency,
    subscriptionId: subscription.id,
  });
  const creditsPerPeriod = subscription.plan?.creditsPerPeriod ?? 0;
  if (creditsPerPeriod <= 0) return null;
  const posted = await credits.grant(em, subscription.user.id, creditsPerPeriod, 'subscription_grant', {
    description: `${subscription.plan?.name ?? 'Subscription'} credits`,
    paymentId,
    externalOrderId: invoice.invoiceId,
    idempotencyKey: `invoice:${invoice.provider}:${invoice.invoiceId}`,
    expiresAt: invoice.periodEnd,
  });
  if (!posted.replayed) {
    record(
      em,
      SYSTEM,
      'credits.subscription_granted',
      { type: 'user', id: subscription.user.id },
      {
        provider: invoice.provider,
        invoice: invoice.invoiceId,
        credits: creditsPerPeriod,
        expiresAt: invoice.periodEnd.toISOString(),
        transactionId: posted.id,
      },
    );
  }
  return posted;
}

/** Plans and packages by their provider ids (for events that name a price or product). */
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
