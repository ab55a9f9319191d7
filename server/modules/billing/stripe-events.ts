// Applies one verified Stripe event (inside the webhook inbox's transaction). Handled:
//   checkout.session.completed            payment mode: the package purchase (payment + credits);
//                                         both modes: remember the Stripe customer of the user
//   customer.subscription.created|updated|deleted   subscription state (+ SubscriptionEvent),
//                                         never overwritten by an older event
//   invoice.paid                          payment + the plan's credits, expiring at period end
//   invoice.payment_failed                subscription → past_due
//   product.created|updated|deleted, price.created|updated|deleted   plan and package sync
// Anything else is stored and marked applied without effect.
import type { EntityManager } from '@mikro-orm/postgresql';
import type Stripe from 'stripe';
import type { BillingInterval, SubscriptionStatus } from '../../../shared/schemas/billing.ts';
import * as billing from './billing.service.ts';
import { syncProduct } from './stripe-catalog.ts';

const fromUnix = (seconds: number | null | undefined) => (seconds ? new Date(seconds * 1000) : null);
const idOf = (value: string | { id: string } | null | undefined) =>
  typeof value === 'string' ? value : (value?.id ?? null);

export type StripeDeps = { stripe: Stripe | null };

export async function applyStripeEvent(
  em: EntityManager,
  deps: StripeDeps,
  event: Stripe.Event,
): Promise<void> {
  const occurredAt = new Date(event.created * 1000);
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded':
      return checkoutCompleted(em, event.data.object);
    case 'customer.subscription.created':
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted':
      return subscriptionChanged(em, event.data.object, occurredAt, event.type);
    case 'invoice.paid':
      return invoicePaid(em, event.data.object);
    case 'invoice.payment_failed': {
      const subscriptionId = subscriptionOfInvoice(event.data.object);
      if (subscriptionId) await billing.markPastDue(em, 'stripe', subscriptionId, occurredAt, event.type);
      return;
    }
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

async function checkoutCompleted(em: EntityManager, session: Stripe.Checkout.Session) {
  const userId = session.client_reference_id ?? session.metadata?.userId ?? null;
  if (!userId) throw new Error(`Checkout session ${session.id} names no user`);
  const customerId = idOf(session.customer);
  if (customerId) await billing.ensureCustomer(em, userId, 'stripe', customerId);
  if (session.mode !== 'payment' || session.payment_status !== 'paid') return;
  const packageId = session.metadata?.packageId;
  if (!packageId) throw new Error(`Checkout session ${session.id} names no credit package`);
  await billing.recordPackagePurchase(em, {
    provider: 'stripe',
    externalPaymentId: idOf(session.payment_intent) ?? session.id,
    userId,
    amountCents: session.amount_total ?? 0,
    currency: session.currency ?? 'usd',
    packageId,
    externalProductId: session.metadata?.productId ?? null,
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

export async function subscriptionChanged(
  em: EntityManager,
  sub: Stripe.Subscription,
  occurredAt: Date,
  eventType: string,
) {
  const customerId = idOf(sub.customer);
  const userId = (await billing.userOfCustomer(em, 'stripe', customerId)) ?? sub.metadata?.userId ?? null;
  if (!userId) throw new Error(`Subscription ${sub.id} belongs to no known customer yet`);
  if (customerId) await billing.ensureCustomer(em, userId, 'stripe', customerId);
  const item = sub.items?.data?.[0];
  const price = item?.price;
  const plan = await billing.planForPrice(em, price?.id, sub.metadata?.planKey);
  // Since API 2025-03-31 the billing period lives on the item; older payloads had it on the subscription.
  const legacy = sub as unknown as { current_period_start?: number; current_period_end?: number };
  await billing.applySubscriptionState(em, {
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
    occurredAt,
    eventType,
  });
}

function subscriptionOfInvoice(invoice: Stripe.Invoice): string | null {
  const legacy = invoice as unknown as { subscription?: string | { id: string } | null };
  return idOf(invoice.parent?.subscription_details?.subscription ?? legacy.subscription ?? null);
}

async function invoicePaid(em: EntityManager, invoice: Stripe.Invoice) {
  const subscriptionId = subscriptionOfInvoice(invoice);
  if (!subscriptionId || !invoice.id) return; // a one-off invoice: nothing to grant
  const periodEnd = Math.max(0, ...(invoice.lines?.data ?? []).map((line) => line.period?.end ?? 0));
  await billing.grantForPaidInvoice(em, {
    provider: 'stripe',
    invoiceId: invoice.id,
    externalSubscriptionId: subscriptionId,
    amountCents: invoice.amount_paid ?? 0,
    currency: invoice.currency ?? 'usd',
    periodEnd: fromUnix(periodEnd || invoice.period_end) ?? new Date(Date.now() + 31 * 86_400_000),
  });
}
