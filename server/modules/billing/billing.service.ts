// Billing's rules for the catalog, customers, payments and package purchases (credited exactly once
// per external payment, with the credits fixed when the checkout was offered). Subscriptions live in
// subscriptions.service.ts, refunds and disputes in reversals.service.ts.
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  isLiveSubscription,
  type PaymentKind,
  type PaymentProvider,
} from '../../../shared/schemas/billing.ts';
import { AppError } from '../../common/app-error.ts';
import { uuidv7 } from '../../common/ids.ts';
import { decodeCursor, newestFirstAfter, toPage } from '../../common/pagination.ts';
import { sql } from '../../db/sql.ts';
import { record, SYSTEM } from '../audit/audit.service.ts';
import * as credits from '../credits/credits.service.ts';
import {
  toAdminPaymentDto,
  toPackageDto,
  toPaymentDto,
  toPlanDto,
  toSubscriptionDto,
} from './billing.dto.ts';
import { Checkout } from './checkout.entity.ts';
import { CreditPackage } from './credit-package.entity.ts';
import { Customer } from './customer.entity.ts';
import { Payment } from './payment.entity.ts';
import { Plan } from './plan.entity.ts';
import { Subscription } from './subscription.entity.ts';

/** Subscription and customer ids the dev checkout invents (never a provider's). */
export const isDevId = (externalId: string) => /^(sub|cus|in|pi|cs)_dev_/.test(externalId);

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

/** The user's most relevant subscription: the live one (at most one), else the latest. */
export async function findCurrentSubscription(em: EntityManager, userId: string) {
  const rows = await em.find(
    Subscription,
    { user: userId },
    {
      populate: ['plan', 'scheduledPlan'],
      orderBy: { providerUpdatedAt: 'desc' },
      limit: 10,
      // Always the committed (or this transaction's) state, never an identity-map copy.
      refresh: true,
    },
  );
  return rows.find((row) => isLiveSubscription(row.status)) ?? rows[0] ?? null;
}

export type PortalDeps = { stripeConfigured: boolean; polarConfigured: boolean };

/** Which provider's customer portal the user can open, if any. */
export async function portalProviderOf(
  em: EntityManager,
  deps: PortalDeps,
  userId: string,
): Promise<PaymentProvider | null> {
  const subscription = await findCurrentSubscription(em, userId);
  const usable = (provider: PaymentProvider, externalId: string) =>
    !isDevId(externalId) && (provider === 'stripe' ? deps.stripeConfigured : deps.polarConfigured);
  if (
    subscription &&
    isLiveSubscription(subscription.status) &&
    usable(subscription.provider, subscription.externalSubscriptionId)
  ) {
    return subscription.provider;
  }
  const customers = await em.find(Customer, { user: userId }, { orderBy: { updatedAt: 'desc' } });
  return (
    customers.find((customer) => usable(customer.provider, customer.externalCustomerId))?.provider ?? null
  );
}

export async function subscriptionOverview(em: EntityManager, deps: PortalDeps, userId: string) {
  const subscription = await findCurrentSubscription(em, userId);
  return {
    subscription: subscription ? toSubscriptionDto(subscription) : null,
    grants: await credits.liveGrants(em, userId),
    /** The provider whose customer portal `billing.portal` opens; null: none. */
    portal: await portalProviderOf(em, deps, userId),
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
    {
      populate: ['creditPackage', 'subscription.plan'],
      orderBy: { createdAt: 'desc', id: 'desc' },
      limit: input.limit + 1,
    },
  );
  return toPage(rows, input.limit, toPaymentDto);
}

/** admin.payments.list: everyone's payments (or one user's), optionally only uncollected ones. */
export async function listAllPayments(
  em: EntityManager,
  input: {
    userId?: string | undefined;
    uncollected?: boolean | undefined;
    cursor?: string | null;
    limit: number;
  },
) {
  const rows = await em.find(
    Payment,
    {
      ...(input.userId ? { user: input.userId } : {}),
      ...(input.uncollected ? { creditsUncollected: { $gt: 0 } } : {}),
      ...newestFirstAfter(decodeCursor(input.cursor)),
    },
    {
      populate: ['creditPackage', 'subscription.plan', 'user'],
      orderBy: { createdAt: 'desc', id: 'desc' },
      limit: input.limit + 1,
    },
  );
  return toPage(rows, input.limit, toAdminPaymentDto);
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

/** A provider call that failed where we could go on (e.g. canceling a duplicate): left to admins. */
export function noteProviderFailure(
  em: EntityManager,
  provider: PaymentProvider,
  externalSubscriptionId: string,
  error: Error,
) {
  record(
    em,
    SYSTEM,
    'billing.duplicate_subscription',
    { type: 'subscription', id: null },
    {
      provider,
      subscription: externalSubscriptionId,
      note: `Canceling it at the provider failed (${error.message.slice(0, 300)}): cancel it by hand`,
    },
  );
}

// ---- customers -------------------------------------------------------------------------------

export async function ensureCustomer(
  em: EntityManager,
  userId: string,
  provider: PaymentProvider,
  externalId: string,
) {
  // Two events of one checkout at once insert the same row: the second, waiting on the first, must
  // find it there — `on conflict do nothing` covers both unique keys (a single arbiter would leave
  // the other one to raise). A user's new customer id then replaces the old one.
  await sql(
    em,
    `insert into customers (id, user_id, provider, external_customer_id, created_at, updated_at)
     values ($1, $2, $3, $4, now(), now())
     on conflict do nothing`,
    [uuidv7(), userId, provider, externalId],
  );
  await sql(
    em,
    `update customers set external_customer_id = $1, updated_at = now()
      where user_id = $2 and provider = $3 and external_customer_id is distinct from $4`,
    [externalId, userId, provider, externalId],
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

export type PaymentRecord = {
  provider: PaymentProvider;
  externalPaymentId: string;
  userId: string;
  kind: PaymentKind;
  amountCents: number;
  currency: string;
  packageId?: string | null;
  subscriptionId?: string | null;
  description?: string | null;
  receiptUrl?: string | null;
  paymentIntentId?: string | null;
  chargeId?: string | null;
  periodStart?: Date | null;
  periodEnd?: Date | null;
};

/**
 * Inserts the payment once per (provider, external id) and returns its id and status either way; a
 * later event may only fill in what was missing (receipt, charge), never change what was paid.
 */
export async function recordPayment(
  em: EntityManager,
  payment: PaymentRecord,
): Promise<{ id: string; status: string }> {
  const rows = await sql<{ id: string; status: string }>(
    em,
    `insert into payments (id, user_id, provider, external_payment_id, kind, amount_cents, currency, status,
                           credit_package_id, subscription_id, description, receipt_url, payment_intent_id,
                           charge_id, period_start, period_end, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, 'succeeded', $8, $9, $10, $11, $12, $13, $14, $15, now(), now())
     on conflict (provider, external_payment_id) do update set
       description = coalesce(payments.description, excluded.description),
       receipt_url = coalesce(excluded.receipt_url, payments.receipt_url),
       payment_intent_id = coalesce(payments.payment_intent_id, excluded.payment_intent_id),
       charge_id = coalesce(payments.charge_id, excluded.charge_id),
       period_start = coalesce(payments.period_start, excluded.period_start),
       period_end = coalesce(payments.period_end, excluded.period_end),
       updated_at = now()
     returning id, status`,
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
      payment.description ?? null,
      payment.receiptUrl ?? null,
      payment.paymentIntentId ?? null,
      payment.chargeId ?? null,
      payment.periodStart ?? null,
      payment.periodEnd ?? null,
    ],
  );
  const row = rows[0];
  if (!row) throw new Error(`Payment ${payment.externalPaymentId} was not recorded`);
  return row;
}

/** A charge's receipt (Stripe `charge.succeeded`/`charge.updated`) on the payment it paid. */
export async function recordReceipt(
  em: EntityManager,
  provider: PaymentProvider,
  refs: { paymentIntentId: string | null; chargeId: string; receiptUrl: string | null },
) {
  await sql(
    em,
    `update payments set receipt_url = coalesce($1, receipt_url), charge_id = coalesce(charge_id, $2), updated_at = now()
      where provider = $3 and (charge_id = $4 or ($5 is not null and payment_intent_id = $6))`,
    [refs.receiptUrl, refs.chargeId, provider, refs.chargeId, refs.paymentIntentId, refs.paymentIntentId],
  );
}

/** The checkout a provider event names (metadata `checkoutId`), if it is the user's. */
export async function findCheckout(em: EntityManager, userId: string, checkoutId: unknown) {
  if (typeof checkoutId !== 'string' || !/^[0-9a-f-]{36}$/.test(checkoutId)) return null;
  return em.findOne(Checkout, { id: checkoutId, user: userId }, { populate: ['plan', 'creditPackage'] });
}

export async function completeCheckout(em: EntityManager, checkoutId: string) {
  await sql(
    em,
    `update checkouts set status = 'completed', completed_at = coalesce(completed_at, now()), updated_at = now()
      where id = $1`,
    [checkoutId],
  );
}

/**
 * A paid package order: its payment row and its `purchase` credits, exactly once per payment. The
 * credits are what the checkout sold (its row, else the event's metadata), never the package's
 * current figure when the checkout is known.
 */
export async function recordPackagePurchase(
  em: EntityManager,
  purchase: Omit<PaymentRecord, 'kind' | 'subscriptionId' | 'description'> & {
    packageId: string | null;
    checkoutId?: unknown;
    /** Credits carried in the provider's metadata (the checkout's), when there is no checkout row. */
    credits?: unknown;
    externalProductId?: string | null;
  },
) {
  const checkout = await findCheckout(em, purchase.userId, purchase.checkoutId);
  const pkgId = checkout?.creditPackage?.id ?? purchase.packageId;
  const pkg = pkgId ? await em.findOne(CreditPackage, { id: pkgId }) : null;
  const metadataCredits = Number(purchase.credits);
  const sold =
    checkout?.credits ??
    (Number.isSafeInteger(metadataCredits) && metadataCredits > 0 ? metadataCredits : null) ??
    pkg?.credits ??
    null;
  if (!sold) throw new AppError('not_found', `Unknown credit package ${String(purchase.packageId)}`);
  const name = checkout?.itemName ?? pkg?.name ?? 'Credits';
  const payment = await recordPayment(em, {
    ...purchase,
    packageId: pkg?.id ?? null,
    kind: 'credit_package',
    description: `${name} — ${sold.toLocaleString('en-US')} credits`,
  });
  if (checkout) await completeCheckout(em, checkout.id);
  const posted = await credits.grant(em, purchase.userId, sold, 'purchase', {
    description: `${name} (${sold} credits)`,
    paymentId: payment.id,
    externalOrderId: purchase.externalPaymentId,
    externalProductId: purchase.externalProductId ?? null,
    idempotencyKey: `purchase:${purchase.provider}:${purchase.externalPaymentId}`,
    metadata: checkout ? { checkoutId: checkout.id } : null,
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
        credits: sold,
        transactionId: posted.id,
      },
    );
  }
  return posted;
}
