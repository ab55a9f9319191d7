// Applies one verified Stripe event (inside the webhook inbox's transaction). Handled:
//   checkout.session.completed|async_payment_succeeded   the Stripe customer of the user; a paid
//                                         package session → payment + the credits its checkout sold
//   customer.subscription.created|updated|deleted   subscription state (+ SubscriptionEvent), never
//                                         overwritten by an older event; same-second ties re-read
//                                         from Stripe when a key is configured; a duplicate live
//                                         subscription is canceled at Stripe
//   invoice.paid                          payment + the plan's credits (see subscriptions.service)
//   invoice.payment_failed                subscription → past_due
//   charge.succeeded|updated              the receipt of the payment it paid
//   charge.refunded                       refund (full or partial, cumulative) → clawback
//   charge.dispute.created|updated|funds_withdrawn|funds_reinstated|closed   dispute → clawback,
//                                         reinstatement when won
//   payment_intent.succeeded|payment_failed   an auto top-up's payment (metadata autoTopUpAttemptId):
//                                         the purchase through the package path, or the failure
//   product.*, price.*                    plan and package sync
// Anything else is stored and marked applied without effect.
import type { EntityManager } from '@mikro-orm/postgresql';
import type Stripe from 'stripe';
import type { BillingInterval, SubscriptionStatus } from '../../../shared/schemas/billing.ts';
import type { Config } from '../../config.ts';
import { settleTopUpIntent } from './auto-top-up.service.ts';
import * as billing from './billing.service.ts';
import * as reversals from './reversals.service.ts';
import { syncProduct } from './stripe-catalog.ts';
import * as subscriptions from './subscriptions.service.ts';

const fromUnix = (seconds: number | null | undefined) => (seconds ? new Date(seconds * 1000) : null);
const idOf = (value: string | { id: string } | null | undefined) =>
  typeof value === 'string' ? value : (value?.id ?? null);

export type StripeDeps = { stripe: Stripe | null; config: Config };

export async function applyStripeEvent(
  em: EntityManager,
  deps: StripeDeps,
  event: Stripe.Event,
): Promise<void> {
  const occurredAt = new Date(event.created * 1000);
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded':
      return checkoutCompleted(em, deps, event.data.object);
    case 'customer.subscription.created':
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted':
      await subscriptionEvent(em, deps, event.data.object, occurredAt, event.type, event.id);
      return;
    case 'invoice.paid':
      return invoicePaid(em, event.data.object);
    case 'invoice.payment_failed': {
      const subscriptionId = subscriptionOfInvoice(event.data.object);
      if (subscriptionId)
        await subscriptions.markPastDue(em, 'stripe', subscriptionId, occurredAt, event.type);
      return;
    }
    case 'charge.succeeded':
    case 'charge.updated': {
      const charge = event.data.object;
      await billing.recordReceipt(em, 'stripe', {
        chargeId: charge.id,
        paymentIntentId: idOf(charge.payment_intent),
        receiptUrl: charge.receipt_url ?? null,
      });
      return;
    }
    case 'charge.refunded': {
      const charge = event.data.object;
      const legacy = charge as unknown as { invoice?: string | { id: string } | null };
      await reversals.applyRefund(em, {
        provider: 'stripe',
        refs: [charge.id, idOf(charge.payment_intent), idOf(legacy.invoice ?? null)],
        refundedCents: charge.amount_refunded,
      });
      return;
    }
    case 'charge.dispute.created':
    case 'charge.dispute.updated':
    case 'charge.dispute.funds_withdrawn':
    case 'charge.dispute.funds_reinstated':
    case 'charge.dispute.closed': {
      const dispute = event.data.object;
      await reversals.applyDispute(em, {
        provider: 'stripe',
        refs: [idOf(dispute.charge), idOf(dispute.payment_intent)],
        disputeId: dispute.id,
        amountCents: dispute.amount,
        status: dispute.status,
        fundsWithdrawn: event.type === 'charge.dispute.funds_withdrawn',
        fundsReinstated: event.type === 'charge.dispute.funds_reinstated',
      });
      return;
    }
    case 'payment_intent.succeeded':
    case 'payment_intent.payment_failed':
      return settleTopUpIntent(em, deps, event.data.object);
    case 'product.created':
    case 'product.updated':
    case 'product.deleted': {
      const product = event.data.object as Stripe.Product;
      const prices = deps.stripe ? await listPrices(deps.stripe, product.id) : [];
      await syncProduct(
        em,
        event.type === 'product.deleted' ? { ...product, active: false } : product,
        prices,
      );
      return;
    }
    case 'price.created':
    case 'price.updated':
    case 'price.deleted': {
      const price = event.data.object as Stripe.Price;
      if (!deps.stripe) return;
      const product = await deps.stripe.products.retrieve(idOf(price.product) as string);
      await syncProduct(em, product, await listPrices(deps.stripe, product.id));
      return;
    }
    default:
      return;
  }
}

async function listPrices(stripe: Stripe, productId: string) {
  const prices: Stripe.Price[] = [];
  for await (const price of stripe.prices.list({ product: productId, limit: 100 })) prices.push(price);
  return prices;
}

async function checkoutCompleted(em: EntityManager, deps: StripeDeps, session: Stripe.Checkout.Session) {
  const userId = session.client_reference_id ?? session.metadata?.userId ?? null;
  if (!userId) throw new Error(`Checkout session ${session.id} names no user`);
  const customerId = idOf(session.customer);
  if (customerId) await billing.ensureCustomer(em, userId, 'stripe', customerId);
  if (session.mode !== 'payment' || session.payment_status !== 'paid') {
    const checkout = await billing.findCheckout(em, userId, session.metadata?.checkoutId);
    if (checkout && session.status === 'complete') await billing.completeCheckout(em, checkout.id);
    return;
  }
  const paymentIntentId = idOf(session.payment_intent);
  // The receipt lives on the charge: ask Stripe for it when we can (charge.succeeded also brings it).
  let charge: { id: string; receipt_url: string | null } | null = null;
  // It is a nicety: a failed lookup never holds back the credits.
  if (deps.stripe && paymentIntentId && !billing.isDevId(paymentIntentId)) {
    const intent = await deps.stripe.paymentIntents
      .retrieve(paymentIntentId, { expand: ['latest_charge'] })
      .catch(() => null);
    const latest = intent?.latest_charge;
    if (latest && typeof latest !== 'string') charge = { id: latest.id, receipt_url: latest.receipt_url };
  }
  await billing.recordPackagePurchase(em, {
    provider: 'stripe',
    externalPaymentId: paymentIntentId ?? session.id,
    userId,
    amountCents: session.amount_total ?? 0,
    currency: session.currency ?? 'usd',
    packageId: session.metadata?.packageId ?? null,
    checkoutId: session.metadata?.checkoutId,
    credits: session.metadata?.credits,
    externalProductId: session.metadata?.productId ?? null,
    paymentIntentId,
    chargeId: charge?.id ?? null,
    receiptUrl: charge?.receipt_url ?? null,
  });
}

const STRIPE_STATUSES: Record<Stripe.Subscription.Status, SubscriptionStatus> = {
  trialing: 'trialing',
  active: 'active',
  past_due: 'past_due',
  unpaid: 'unpaid',
  canceled: 'canceled',
  incomplete: 'incomplete',
  incomplete_expired: 'canceled',
  paused: 'paused',
};

/** A subscription event; on a same-second tie with a Stripe key, Stripe's current state decides. */
async function subscriptionEvent(
  em: EntityManager,
  deps: StripeDeps,
  sub: Stripe.Subscription,
  occurredAt: Date,
  eventType: string,
  eventId: string,
) {
  if (deps.stripe && !billing.isDevId(sub.id)) {
    const stored = await subscriptions.storedStateTime(em, 'stripe', sub.id);
    if (stored && stored.status !== 'canceled' && stored.at.getTime() === occurredAt.getTime()) {
      // Stripe unreachable: the precedence rules still decide, never the arrival order.
      const fresh = await deps.stripe.subscriptions.retrieve(sub.id).catch(() => null);
      if (fresh?.id === sub.id) {
        return subscriptionChanged(em, deps, fresh, occurredAt, eventType, null, { force: true });
      }
    }
  }
  return subscriptionChanged(em, deps, sub, occurredAt, eventType, eventId);
}

/** Applies a subscription object (from an event, or from an API response with eventId null). */
export async function subscriptionChanged(
  em: EntityManager,
  deps: StripeDeps,
  sub: Stripe.Subscription,
  occurredAt: Date,
  eventType: string,
  eventId: string | null,
  options: { force?: boolean } = {},
) {
  const customerId = idOf(sub.customer);
  const userId = (await billing.userOfCustomer(em, 'stripe', customerId)) ?? sub.metadata?.userId ?? null;
  if (!userId) throw new Error(`Subscription ${sub.id} belongs to no known customer yet`);
  if (customerId) await billing.ensureCustomer(em, userId, 'stripe', customerId);
  const item = sub.items?.data?.[0];
  const price = item?.price;
  const plan = await subscriptions.planForPrice(em, price?.id, sub.metadata?.planKey);
  // Since API 2025-03-31 the billing period lives on the item; older payloads had it on the subscription.
  const legacy = sub as unknown as { current_period_start?: number; current_period_end?: number };
  const outcome = await subscriptions.applySubscriptionState(
    em,
    {
      provider: 'stripe',
      externalSubscriptionId: sub.id,
      userId,
      planId: plan?.id ?? null,
      status:
        eventType === 'customer.subscription.deleted'
          ? 'canceled'
          : (STRIPE_STATUSES[sub.status] ?? 'incomplete'),
      priceId: price?.id ?? null,
      amountCents: price?.unit_amount ?? null,
      currency: price?.currency ?? sub.currency ?? null,
      interval: (price?.recurring?.interval === 'year'
        ? 'year'
        : price?.recurring
          ? 'month'
          : null) as BillingInterval | null,
      intervalCount: price?.recurring?.interval_count ?? 1,
      trialStart: fromUnix(sub.trial_start),
      trialEnd: fromUnix(sub.trial_end),
      currentPeriodStart: fromUnix(item?.current_period_start ?? legacy.current_period_start),
      currentPeriodEnd: fromUnix(item?.current_period_end ?? legacy.current_period_end),
      cancelAtPeriodEnd: sub.cancel_at_period_end,
      canceledAt: fromUnix(sub.canceled_at),
      creditsPerPeriod: subscriptions.soldCredits(sub.metadata, plan),
      occurredAt,
      eventKey: eventId ? subscriptions.eventKeyOf(eventType, eventId) : null,
      eventType,
    },
    options,
  );
  // A second live subscription (two checkouts paid): it is stored canceled; end it at Stripe too.
  if (outcome.duplicate && deps.stripe && !billing.isDevId(sub.id) && sub.status !== 'canceled') {
    await deps.stripe.subscriptions
      .cancel(sub.id, { prorate: true })
      .catch((error: Error) => billing.noteProviderFailure(em, 'stripe', sub.id, error));
  }
  return outcome;
}

function subscriptionOfInvoice(invoice: Stripe.Invoice): string | null {
  const legacy = invoice as unknown as { subscription?: string | { id: string } | null };
  return idOf(invoice.parent?.subscription_details?.subscription ?? legacy.subscription ?? null);
}

function paymentRefsOfInvoice(invoice: Stripe.Invoice) {
  const legacy = invoice as unknown as {
    payment_intent?: string | { id: string } | null;
    charge?: string | { id: string } | null;
  };
  const paid = invoice.payments?.data?.find((entry) => entry.payment?.payment_intent);
  return {
    paymentIntentId: idOf(paid?.payment?.payment_intent ?? legacy.payment_intent ?? null),
    chargeId: idOf(paid?.payment?.charge ?? legacy.charge ?? null),
  };
}

async function invoicePaid(em: EntityManager, invoice: Stripe.Invoice) {
  const subscriptionId = subscriptionOfInvoice(invoice);
  if (!subscriptionId || !invoice.id) return; // a one-off invoice: nothing to grant
  const lines = invoice.lines?.data ?? [];
  const periodEnd = Math.max(0, ...lines.map((line) => line.period?.end ?? 0));
  const starts = lines.map((line) => line.period?.start ?? 0).filter((start) => start > 0);
  // The plan the invoice charged for (it may be a scheduled change the subscription event has not
  // reported yet): the price of its line (API 2025+: pricing.price_details; older: price).
  const linePrice = lines
    .map((line) => {
      const legacy = line as unknown as { price?: string | { id: string } | null };
      return idOf(line.pricing?.price_details?.price ?? legacy.price ?? null);
    })
    .find(Boolean);
  const plan = linePrice ? await subscriptions.planForPrice(em, linePrice) : null;
  await subscriptions.grantForPaidInvoice(em, {
    provider: 'stripe',
    invoiceId: invoice.id,
    externalSubscriptionId: subscriptionId,
    amountCents: invoice.amount_paid ?? 0,
    currency: invoice.currency ?? 'usd',
    periodStart: fromUnix(starts.length ? Math.min(...starts) : invoice.period_start),
    periodEnd: fromUnix(periodEnd || invoice.period_end) ?? new Date(Date.now() + 31 * 86_400_000),
    billingReason: invoice.billing_reason ?? null,
    planId: plan?.id ?? null,
    receiptUrl: invoice.hosted_invoice_url ?? null,
    ...paymentRefsOfInvoice(invoice),
  });
}
