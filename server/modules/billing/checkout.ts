// Checkout, plan changes, cancel/resume and the customer portal.
//
// billing.checkout records what is sold (a Checkout row: credits, price, name — fixed here) and
// returns where to pay: the local dev checkout when it is on (never in production), else a Stripe
// Checkout Session (STRIPE_SECRET_KEY), else a Polar checkout (POLAR_ACCESS_TOKEN). A user who
// already has a live subscription changes plan instead of buying a second one: an upgrade (more
// credits, same interval) happens now, on the same subscription, with proration; a downgrade or an
// interval switch waits for the end of the period (Stripe: a subscription schedule; Polar:
// proration_behavior=next_period; dev: the billing-cycle job's renewal). Choosing the current plan
// again takes a waiting change back.
import type { EntityManager } from '@mikro-orm/postgresql';
import type Stripe from 'stripe';
import type { BillingInterval, CheckoutProvider, PlanChange } from '../../../shared/schemas/billing.ts';
import { AppError } from '../../common/app-error.ts';
import { toSubscriptionDto } from './billing.dto.ts';
import * as billing from './billing.service.ts';
import { Checkout } from './checkout.entity.ts';
import type { CreditPackage } from './credit-package.entity.ts';
import * as dev from './dev-checkout.ts';
import type { PaymentWebhookDeps } from './payment-webhooks.ts';
import type { Plan } from './plan.entity.ts';
import * as polarEvents from './polar-events.ts';
import { subscriptionChanged } from './stripe-events.ts';
import type { Subscription } from './subscription.entity.ts';
import * as subscriptions from './subscriptions.service.ts';

type CheckoutCommand =
  | { kind: 'package'; packageId: string }
  | { kind: 'plan'; planKey: string; interval: BillingInterval };

export type CheckoutResult = {
  /** Where to go: the provider's page, the dev checkout, or (after a plan change) the billing page. */
  url: string;
  provider: CheckoutProvider;
  /** Set when the user was on a plan: what changed instead of a purchase. */
  change: PlanChange | null;
};

const CHECKOUT_TTL_MS = 30 * 60 * 1000;

function checkoutProvider(deps: PaymentWebhookDeps): CheckoutProvider {
  if (deps.config.devCheckout) return 'dev';
  if (deps.stripe) return 'stripe';
  if (deps.polar) return 'polar';
  throw new AppError(
    'unavailable',
    'Payments are not set up on this server yet: no payment provider is configured',
  );
}

type Item =
  | {
      kind: 'package';
      pkg: CreditPackage;
      amountCents: number;
      currency: string;
      name: string;
      credits: number;
    }
  | {
      kind: 'plan';
      plan: Plan;
      interval: BillingInterval;
      amountCents: number;
      currency: string;
      name: string;
      credits: number;
    };

async function describeItem(em: EntityManager, input: CheckoutCommand): Promise<Item> {
  if (input.kind === 'package') {
    const pkg = await billing.findPackage(em, input.packageId);
    return {
      kind: 'package',
      pkg,
      amountCents: pkg.priceCents,
      currency: pkg.currency,
      name: pkg.name,
      credits: pkg.credits,
    };
  }
  const plan = await billing.findPlanByKey(em, input.planKey);
  const amountCents = input.interval === 'year' ? plan.priceYearlyCents : plan.priceMonthlyCents;
  if (plan.ctaType !== 'checkout' || amountCents <= 0) {
    throw new AppError(
      'bad_request',
      `The ${plan.name} plan cannot be bought ${input.interval === 'year' ? 'yearly' : 'monthly'}`,
      { fieldErrors: { planKey: ['This plan is not sold through checkout'] } },
    );
  }
  return {
    kind: 'plan',
    plan,
    interval: input.interval,
    amountCents,
    currency: plan.currency,
    name: plan.name,
    credits: plan.creditsPerPeriod,
  };
}

const stripePriceOf = (plan: Plan, interval: BillingInterval) =>
  interval === 'year' ? plan.externalPriceYearlyId : plan.externalPriceMonthlyId;
const polarProductOf = (plan: Plan, interval: BillingInterval) =>
  interval === 'year' ? plan.polarProductYearlyId : plan.polarProductMonthlyId;

// ---- checkout --------------------------------------------------------------------------------

export async function createCheckout(
  em: EntityManager,
  deps: PaymentWebhookDeps,
  user: { id: string; email: string },
  input: CheckoutCommand,
): Promise<CheckoutResult> {
  // One checkout or plan change at a time per user: two tabs cannot open two plan checkouts side by
  // side, nor change the plan twice (the second one then sees the first one's result).
  await em.execute("select pg_advisory_xact_lock(hashtextextended('checkout:' || ?, 0))", [user.id]);
  if (input.kind === 'plan') {
    const current = await billing.findCurrentSubscription(em, user.id);
    if (current && ['trialing', 'active', 'past_due'].includes(current.status)) {
      return changePlan(em, deps, current, input);
    }
  }
  const item = await describeItem(em, input);
  const provider = checkoutProvider(deps);
  const checkout = em.create(Checkout, {
    user: user.id,
    provider,
    kind: item.kind === 'package' ? 'credit_package' : 'subscription',
    creditPackage: item.kind === 'package' ? item.pkg.id : null,
    plan: item.kind === 'plan' ? item.plan.id : null,
    interval: item.kind === 'plan' ? item.interval : null,
    itemName: item.name,
    credits: item.credits,
    amountCents: item.amountCents,
    currency: item.currency,
    expiresAt: new Date(Date.now() + CHECKOUT_TTL_MS),
  });
  const metadata = {
    userId: user.id,
    checkoutId: checkout.id,
    credits: String(item.credits),
    ...(item.kind === 'package' ? { packageId: item.pkg.id } : { planKey: item.plan.key }),
  };
  if (provider === 'dev') {
    await em.flush();
    const url = await dev.devCheckoutUrl(em, {
      id: checkout.id,
      userId: user.id,
      expiresAt: checkout.expiresAt,
    });
    return { url, provider, change: null };
  }
  if (provider === 'stripe') {
    const stripe = deps.stripe as Stripe;
    if (item.kind === 'plan') await expireOpenStripeCheckouts(em, stripe, user.id);
    const session = await createStripeSession(em, deps, stripe, user, item, metadata);
    if (!session.url) throw new Error('Stripe returned a checkout session without a URL');
    checkout.externalCheckoutId = session.id;
    if (session.expires_at) checkout.expiresAt = new Date(session.expires_at * 1000);
    await em.flush();
    return { url: session.url, provider, change: null };
  }
  const productId =
    item.kind === 'package' ? item.pkg.polarProductId : polarProductOf(item.plan, item.interval);
  if (!productId) {
    throw new AppError('bad_request', `${item.name} is not sold through Polar (no Polar product is linked)`, {
      fieldErrors: item.kind === 'package' ? { packageId: ['Not on sale'] } : { planKey: ['Not on sale'] },
    });
  }
  const session = await (deps.polar as NonNullable<PaymentWebhookDeps['polar']>).createCheckout({
    products: [productId],
    // The price recorded here is the price charged, whatever the product's price says meanwhile.
    prices: {
      [productId]: [{ amount_type: 'fixed', price_amount: item.amountCents, price_currency: item.currency }],
    },
    external_customer_id: user.id,
    customer_email: user.email,
    success_url: `${deps.config.publicUrl}/billing?checkout=success`,
    return_url: `${deps.config.publicUrl}/pricing`,
    metadata,
  });
  checkout.externalCheckoutId = session.id;
  if (session.expires_at) checkout.expiresAt = new Date(session.expires_at);
  await em.flush();
  return { url: session.url, provider, change: null };
}

async function createStripeSession(
  em: EntityManager,
  deps: PaymentWebhookDeps,
  stripe: Stripe,
  user: { id: string; email: string },
  item: Item,
  metadata: Record<string, string>,
) {
  const customer = await billing.customerOf(em, user.id, 'stripe');
  const base = deps.config.publicUrl;
  const common = {
    client_reference_id: user.id,
    success_url: `${base}/billing?checkout=success`,
    cancel_url: `${base}/pricing?checkout=canceled`,
    metadata,
    ...(customer && !billing.isDevId(customer.externalCustomerId)
      ? { customer: customer.externalCustomerId }
      : { customer_email: user.email }),
  };
  const hasCustomer = 'customer' in common;
  if (item.kind === 'package') {
    return stripe.checkout.sessions.create({
      ...common,
      mode: 'payment',
      ...(hasCustomer ? {} : { customer_creation: 'always' as const }),
      payment_intent_data: { metadata },
      line_items: [
        // The amount recorded with the checkout is the amount charged.
        {
          quantity: 1,
          price_data: {
            currency: item.currency,
            unit_amount: item.amountCents,
            ...(item.pkg.stripeProductId
              ? { product: item.pkg.stripeProductId }
              : { product_data: { name: item.name } }),
          },
        },
      ],
    });
  }
  const priceId = stripePriceOf(item.plan, item.interval);
  return stripe.checkout.sessions.create({
    ...common,
    mode: 'subscription',
    subscription_data: { metadata },
    line_items: [
      priceId
        ? { price: priceId, quantity: 1 }
        : {
            quantity: 1,
            price_data: {
              currency: item.currency,
              unit_amount: item.amountCents,
              recurring: { interval: item.interval },
              product_data: { name: item.plan.name },
            },
          },
    ],
  });
}

/** A new plan checkout expires the user's earlier open ones, so two cannot both be paid. */
async function expireOpenStripeCheckouts(em: EntityManager, stripe: Stripe, userId: string) {
  const open = await em.find(Checkout, {
    user: userId,
    provider: 'stripe',
    kind: 'subscription',
    status: 'open',
    externalCheckoutId: { $ne: null },
    expiresAt: { $gt: new Date() },
  });
  for (const row of open) {
    try {
      await stripe.checkout.sessions.expire(row.externalCheckoutId as string);
      row.status = 'expired';
    } catch (error) {
      // Already completed or expired at Stripe: its own events tell which.
      if (!(error instanceof Error && 'type' in error)) throw error;
    }
  }
}

// ---- plan changes ----------------------------------------------------------------------------

async function changePlan(
  em: EntityManager,
  deps: PaymentWebhookDeps,
  current: Subscription,
  input: { planKey: string; interval: BillingInterval },
): Promise<CheckoutResult> {
  const item = await describeItem(em, { kind: 'plan', ...input });
  if (item.kind !== 'plan') throw new Error('unreachable');
  const isDev = billing.isDevId(current.externalSubscriptionId);
  const provider: CheckoutProvider = isDev ? 'dev' : current.provider;
  const done = (change: PlanChange): CheckoutResult => ({
    url: `/billing?plan=${change}`,
    provider,
    change,
  });
  const currentInterval = current.interval ?? 'month';
  if (current.plan?.id === item.plan.id && currentInterval === item.interval) {
    if (!current.scheduledPlan) {
      throw new AppError('conflict', `You are already on the ${item.plan.name} plan`, {
        fieldErrors: { planKey: ['Your current plan'] },
      });
    }
    await cancelScheduledChange(em, deps, current);
    return done('change_canceled');
  }
  if (current.status === 'past_due') {
    throw new AppError(
      'bad_request',
      'Your last payment failed: update your payment method before changing plan',
    );
  }
  const currentCredits = current.creditsPerPeriod ?? current.plan?.creditsPerPeriod ?? 0;
  const upgrade = item.interval === currentInterval && item.credits > currentCredits;
  const periodEnd = current.currentPeriodEnd ?? new Date();
  if (isDev) {
    if (!upgrade) {
      await subscriptions.scheduleChange(em, current.id, item.plan.id, periodEnd, item.interval);
      return done('downgrade_scheduled');
    }
    // The dev "Stripe" applies the change through signed events (committed on their own), so this
    // transaction must not hold the subscription's row until they are delivered.
    await dev.devUpgrade(em, deps, current, {
      plan: item.plan,
      interval: item.interval,
      amountCents: item.amountCents,
      credits: item.credits,
    });
    if (current.scheduledPlan) await subscriptions.clearScheduledChange(em, current.id);
    return done('upgraded');
  }
  if (current.provider === 'stripe') {
    if (!deps.stripe) throw new AppError('unavailable', 'Stripe is not configured on this server');
    await (upgrade
      ? stripeUpgrade(em, deps, deps.stripe, current, item)
      : stripeScheduleChange(em, deps.stripe, current, item, periodEnd));
    return done(upgrade ? 'upgraded' : 'downgrade_scheduled');
  }
  if (!deps.polar) throw new AppError('unavailable', 'Polar is not configured on this server');
  const productId = polarProductOf(item.plan, item.interval);
  if (!productId) {
    throw new AppError(
      'bad_request',
      `${item.plan.name} is not sold through Polar (no Polar product is linked)`,
      {
        fieldErrors: { planKey: ['Not on sale'] },
      },
    );
  }
  const updated = await deps.polar.updateSubscription(current.externalSubscriptionId, {
    product_id: productId,
    proration_behavior: upgrade ? 'invoice' : 'next_period',
    metadata: { userId: current.user.id, planKey: item.plan.key, credits: item.credits },
  });
  await polarEvents.subscriptionChanged(em, deps, updated, current.user.id, {
    eventType: 'subscription.updated',
    eventId: null,
    occurredAt: new Date(),
  });
  if (!upgrade) await subscriptions.scheduleChange(em, current.id, item.plan.id, periodEnd, item.interval);
  return done(upgrade ? 'upgraded' : 'downgrade_scheduled');
}

/** The Stripe price for a plan and interval: the plan's own, else one made for this change. */
async function stripePrice(stripe: Stripe, item: Extract<Item, { kind: 'plan' }>) {
  const existing = stripePriceOf(item.plan, item.interval);
  if (existing) return existing;
  const price = await stripe.prices.create({
    currency: item.currency,
    unit_amount: item.amountCents,
    recurring: { interval: item.interval },
    product_data: { name: item.plan.name },
    metadata: { planKey: item.plan.key },
  });
  return price.id;
}

/**
 * An upgrade now (Stripe's recommendation): the subscription's item moves to the new price,
 * prorated and invoiced at once; `pending_if_incomplete` applies it only if that invoice is paid.
 */
async function stripeUpgrade(
  em: EntityManager,
  deps: PaymentWebhookDeps,
  stripe: Stripe,
  current: Subscription,
  item: Extract<Item, { kind: 'plan' }>,
) {
  const sub = await stripe.subscriptions.retrieve(current.externalSubscriptionId);
  const scheduleId = typeof sub.schedule === 'string' ? sub.schedule : (sub.schedule?.id ?? null);
  if (scheduleId) await stripe.subscriptionSchedules.release(scheduleId);
  const itemId = sub.items.data[0]?.id;
  if (!itemId) throw new Error(`Stripe subscription ${sub.id} has no item`);
  const updated = await stripe.subscriptions.update(sub.id, {
    items: [{ id: itemId, price: await stripePrice(stripe, item) }],
    proration_behavior: 'always_invoice',
    payment_behavior: 'pending_if_incomplete',
    metadata: {
      ...sub.metadata,
      userId: current.user.id,
      planKey: item.plan.key,
      credits: String(item.credits),
    },
  });
  if (updated.pending_update) {
    throw new AppError(
      'bad_request',
      'The payment for the upgrade did not go through: update your card in the billing portal and try again',
    );
  }
  await subscriptionChanged(em, deps, updated, new Date(), 'customer.subscription.updated', null);
  if (current.scheduledPlan) await subscriptions.clearScheduledChange(em, current.id);
}

/**
 * A downgrade (or interval switch) at period end, as Stripe recommends: a subscription schedule
 * whose current phase runs to the period's end and whose next phase is the new price.
 */
async function stripeScheduleChange(
  em: EntityManager,
  stripe: Stripe,
  current: Subscription,
  item: Extract<Item, { kind: 'plan' }>,
  periodEnd: Date,
) {
  const sub = await stripe.subscriptions.retrieve(current.externalSubscriptionId);
  const existing = typeof sub.schedule === 'string' ? sub.schedule : (sub.schedule?.id ?? null);
  const schedule = existing
    ? await stripe.subscriptionSchedules.retrieve(existing)
    : await stripe.subscriptionSchedules.create({ from_subscription: sub.id });
  const currentPrice = sub.items.data[0]?.price?.id;
  const phase = schedule.phases?.[0];
  if (!currentPrice || !phase) throw new Error(`Stripe subscription ${sub.id} has no current phase`);
  await stripe.subscriptionSchedules.update(schedule.id, {
    end_behavior: 'release',
    phases: [
      {
        items: [{ price: currentPrice, quantity: 1 }],
        start_date: phase.start_date,
        end_date: Math.floor(periodEnd.getTime() / 1000),
      },
      {
        items: [{ price: await stripePrice(stripe, item), quantity: 1 }],
        duration: { interval: item.interval, interval_count: 1 },
        proration_behavior: 'none',
        metadata: { userId: current.user.id, planKey: item.plan.key, credits: String(item.credits) },
      },
    ],
  });
  await subscriptions.scheduleChange(em, current.id, item.plan.id, periodEnd, item.interval);
}

async function cancelScheduledChange(em: EntityManager, deps: PaymentWebhookDeps, current: Subscription) {
  if (!billing.isDevId(current.externalSubscriptionId)) {
    if (current.provider === 'stripe' && deps.stripe) {
      const sub = await deps.stripe.subscriptions.retrieve(current.externalSubscriptionId);
      const scheduleId = typeof sub.schedule === 'string' ? sub.schedule : (sub.schedule?.id ?? null);
      if (scheduleId) await deps.stripe.subscriptionSchedules.release(scheduleId);
    } else if (current.provider === 'polar' && deps.polar) {
      await deps.polar.updateSubscription(current.externalSubscriptionId, { pending_update: null });
    }
  }
  await subscriptions.clearScheduledChange(em, current.id);
}

// ---- cancel and resume -----------------------------------------------------------------------

async function liveSubscriptionOf(em: EntityManager, userId: string) {
  const subscription = await billing.findCurrentSubscription(em, userId);
  if (!subscription || !['trialing', 'active', 'past_due'].includes(subscription.status)) {
    throw new AppError('not_found', 'You have no active subscription');
  }
  return subscription;
}

/**
 * Cancels at period end (cancel = true) or takes the cancellation back (cancel = false), and
 * returns the subscription as it is now. Canceling also drops a waiting plan change.
 */
export async function setCancelAtPeriodEnd(
  em: EntityManager,
  deps: PaymentWebhookDeps,
  userId: string,
  cancel: boolean,
) {
  const subscription = await liveSubscriptionOf(em, userId);
  if (subscription.cancelAtPeriodEnd === cancel) return toSubscriptionDto(subscription);
  if (billing.isDevId(subscription.externalSubscriptionId)) {
    await dev.devSetCancelAtPeriodEnd(em, deps, subscription, cancel);
    if (cancel && subscription.scheduledPlan) await subscriptions.clearScheduledChange(em, subscription.id);
  } else if (subscription.provider === 'stripe') {
    if (!deps.stripe) throw new AppError('unavailable', 'Stripe is not configured on this server');
    if (cancel && subscription.scheduledPlan) await cancelScheduledChange(em, deps, subscription);
    const updated = await deps.stripe.subscriptions.update(subscription.externalSubscriptionId, {
      cancel_at_period_end: cancel,
    });
    await subscriptionChanged(em, deps, updated, new Date(), 'customer.subscription.updated', null);
  } else {
    if (!deps.polar) throw new AppError('unavailable', 'Polar is not configured on this server');
    if (cancel && subscription.scheduledPlan) await cancelScheduledChange(em, deps, subscription);
    const updated = await deps.polar.updateSubscription(subscription.externalSubscriptionId, {
      cancel_at_period_end: cancel,
    });
    await polarEvents.subscriptionChanged(em, deps, updated, userId, {
      eventType: 'subscription.updated',
      eventId: null,
      occurredAt: new Date(),
    });
  }
  // Read back in this transaction: the state just written (or delivered), not the one before it.
  const fresh = await billing.findCurrentSubscription(em, userId);
  return toSubscriptionDto(fresh ?? subscription);
}

// ---- the customer portal ---------------------------------------------------------------------

/** The provider's customer portal for the user: a Stripe billing-portal session, or Polar's. */
export async function openPortal(em: EntityManager, deps: PaymentWebhookDeps, userId: string) {
  const provider = await billing.portalProviderOf(
    em,
    { stripeConfigured: Boolean(deps.stripe), polarConfigured: Boolean(deps.polar) },
    userId,
  );
  const returnUrl = `${deps.config.publicUrl}/billing`;
  if (provider === 'stripe' && deps.stripe) {
    const customer = await billing.customerOf(em, userId, 'stripe');
    if (customer) {
      const session = await deps.stripe.billingPortal.sessions.create({
        customer: customer.externalCustomerId,
        return_url: returnUrl,
      });
      return { url: session.url, provider };
    }
  }
  if (provider === 'polar' && deps.polar) {
    const session = await deps.polar.createCustomerSession({
      external_customer_id: userId,
      return_url: returnUrl,
    });
    return { url: session.customer_portal_url, provider };
  }
  throw new AppError('not_found', 'You have no billing account with a payment provider yet');
}

export { completeDevCheckout, describeDevCheckout } from './dev-checkout.ts';
