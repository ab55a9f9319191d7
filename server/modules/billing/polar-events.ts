// Applies one verified Polar event (inside the webhook inbox's transaction). Handled:
//   order.paid        a package order → payment + the credits its checkout sold, once per order;
//                     a subscription's order (creation or cycle) → payment + the plan's credits,
//                     like Stripe's invoice.paid (a plan change's order: payment only)
//   order.refunded    refund (full or partial, cumulative `refunded_amount`) → clawback
//   subscription.*    subscription state, ordered by `modified_at` (ties as for Stripe); `revoked`
//                     → canceled; a pending product change → the scheduled change
// Polar customers are created with external_id = our user id, which is how events find the user.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { SubscriptionStatus } from '../../../shared/schemas/billing.ts';
import * as billing from './billing.service.ts';
import { CreditPackage } from './credit-package.entity.ts';
import type { PolarClient } from './polar-client.ts';
import * as reversals from './reversals.service.ts';
import { Subscription } from './subscription.entity.ts';
import * as subscriptions from './subscriptions.service.ts';

export type PolarEvent = { type: string; timestamp?: string; data: Record<string, unknown> };
export type PolarDeps = { polar: PolarClient | null };

const str = (value: unknown) => (typeof value === 'string' && value ? value : null);
const date = (value: unknown) => (typeof value === 'string' && value ? new Date(value) : null);
const obj = (value: unknown) =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;

function userIdOf(data: Record<string, unknown>): string | null {
  const customer = obj(data.customer) ?? {};
  const metadata = obj(data.metadata) ?? {};
  return str(customer.external_id) ?? str(data.external_customer_id) ?? str(metadata.userId);
}

const POLAR_STATUSES: Record<string, SubscriptionStatus> = {
  incomplete: 'incomplete',
  incomplete_expired: 'canceled',
  trialing: 'trialing',
  active: 'active',
  past_due: 'past_due',
  canceled: 'canceled',
  unpaid: 'unpaid',
  paused: 'paused',
};

export async function applyPolarEvent(
  em: EntityManager,
  deps: PolarDeps,
  event: PolarEvent,
  meta: { id: string; receivedAt: Date },
): Promise<void> {
  const data = event.data;
  if (event.type === 'order.paid') return orderPaid(em, deps, event, meta);
  if (event.type === 'order.refunded') {
    await reversals.applyRefund(em, {
      provider: 'polar',
      refs: [str(data.id)],
      refundedCents: Number(data.refunded_amount ?? 0),
    });
    return;
  }
  if (event.type.startsWith('subscription.')) {
    const userId = userIdOf(data);
    if (!userId) throw new Error(`Polar subscription ${String(data.id)} names no user`);
    await subscriptionChanged(em, deps, data, userId, {
      eventType: event.type,
      eventId: meta.id,
      occurredAt: date(data.modified_at) ?? date(event.timestamp) ?? meta.receivedAt,
    });
  }
}

async function rememberCustomer(em: EntityManager, userId: string, data: Record<string, unknown>) {
  const customerId = str(obj(data.customer)?.id) ?? str(data.customer_id);
  if (customerId) await billing.ensureCustomer(em, userId, 'polar', customerId);
}

export async function subscriptionChanged(
  em: EntityManager,
  deps: PolarDeps,
  data: Record<string, unknown>,
  userId: string,
  source: { eventType: string; eventId: string | null; occurredAt: Date },
) {
  await rememberCustomer(em, userId, data);
  const metadata = obj(data.metadata);
  const plan = await subscriptions.planForPolarProduct(em, str(data.product_id), str(metadata?.planKey));
  const status =
    source.eventType === 'subscription.revoked'
      ? 'canceled'
      : (POLAR_STATUSES[String(data.status)] ?? 'incomplete');
  const outcome = await subscriptions.applySubscriptionState(em, {
    provider: 'polar',
    externalSubscriptionId: String(data.id),
    userId,
    planId: plan?.id ?? null,
    status,
    priceId: str(data.price_id) ?? str(obj((data.prices as unknown[] | undefined)?.[0])?.id),
    amountCents: typeof data.amount === 'number' ? data.amount : null,
    currency: str(data.currency),
    interval:
      data.recurring_interval === 'year' ? 'year' : data.recurring_interval === 'month' ? 'month' : null,
    intervalCount: typeof data.recurring_interval_count === 'number' ? data.recurring_interval_count : 1,
    trialStart: date(data.trial_start),
    trialEnd: date(data.trial_end),
    currentPeriodStart: date(data.current_period_start),
    currentPeriodEnd: date(data.current_period_end),
    cancelAtPeriodEnd: data.cancel_at_period_end === true,
    canceledAt: date(data.canceled_at),
    creditsPerPeriod: subscriptions.soldCredits(metadata, plan),
    occurredAt: source.occurredAt,
    eventKey: source.eventId ? subscriptions.eventKeyOf(source.eventType, source.eventId) : null,
    eventType: source.eventType,
  });
  if (outcome.duplicate && deps.polar && status !== 'canceled') {
    await deps.polar
      .revokeSubscription(String(data.id))
      .catch((error: Error) => billing.noteProviderFailure(em, 'polar', String(data.id), error));
  }
  // Polar's own scheduled product change (proration "next_period"): shown as the scheduled change.
  if (outcome.applied && !outcome.duplicate && outcome.subscriptionId && 'pending_update' in data) {
    const pending = obj(data.pending_update);
    const next = pending ? await subscriptions.planForPolarProduct(em, str(pending.product_id)) : null;
    const at = pending ? date(pending.applies_at) : null;
    if (next && at) await subscriptions.scheduleChange(em, outcome.subscriptionId, next.id, at);
    else if (!pending) await subscriptions.clearScheduledChange(em, outcome.subscriptionId);
  }
  return outcome;
}

async function orderPaid(
  em: EntityManager,
  deps: PolarDeps,
  event: PolarEvent,
  meta: { id: string; receivedAt: Date },
) {
  const data = event.data;
  const userId = userIdOf(data);
  if (!userId) throw new Error(`Polar order ${String(data.id)} names no user`);
  await rememberCustomer(em, userId, data);
  const orderId = String(data.id);
  const metadata = obj(data.metadata) ?? {};
  const subscriptionId = str(data.subscription_id) ?? str(obj(data.subscription)?.id);
  if (subscriptionId) {
    // The order embeds its subscription: apply that state first, so the grant never waits for it.
    const embedded = obj(data.subscription);
    if (embedded && str(embedded.id)) {
      await subscriptionChanged(em, deps, { ...embedded, customer: data.customer }, userId, {
        eventType: 'order.paid.subscription',
        eventId: null,
        occurredAt: date(embedded.modified_at) ?? date(embedded.created_at) ?? meta.receivedAt,
      });
    }
    const stored = await em.findOne(
      Subscription,
      { provider: 'polar', externalSubscriptionId: subscriptionId },
      { refresh: true },
    );
    await subscriptions.grantForPaidInvoice(em, {
      provider: 'polar',
      invoiceId: orderId,
      externalSubscriptionId: subscriptionId,
      amountCents: Number(data.total_amount ?? data.amount ?? 0),
      currency: str(data.currency) ?? 'usd',
      periodStart: date(embedded?.current_period_start) ?? stored?.currentPeriodStart ?? null,
      periodEnd:
        date(embedded?.current_period_end) ??
        stored?.currentPeriodEnd ??
        new Date(meta.receivedAt.getTime() + 31 * 86_400_000),
      billingReason: str(data.billing_reason),
      planId: (await subscriptions.planForPolarProduct(em, str(data.product_id)))?.id ?? null,
    });
    return;
  }
  const productId = str(data.product_id);
  const pkg = productId ? await em.findOne(CreditPackage, { polarProductId: productId }) : null;
  const checkout = await billing.findCheckout(em, userId, metadata.checkoutId);
  if (!pkg && !checkout?.creditPackage) return; // neither a package nor a subscription of ours
  await billing.recordPackagePurchase(em, {
    provider: 'polar',
    externalPaymentId: orderId,
    userId,
    amountCents: Number(data.total_amount ?? data.amount ?? pkg?.priceCents ?? 0),
    currency: str(data.currency) ?? pkg?.currency ?? 'usd',
    packageId: pkg?.id ?? null,
    checkoutId: metadata.checkoutId,
    credits: metadata.credits,
    externalProductId: productId,
  });
}
