// Plan changes of a live subscription (billing.checkout of another plan): an upgrade (more
// credits, same interval) happens now, on the same subscription, with proration; a downgrade or an
// interval switch waits for the end of the period (Stripe: a subscription schedule; Polar:
// proration_behavior=next_period; dev: the billing-cycle job's renewal). Choosing the current plan
// again takes a waiting change back.
import type { EntityManager } from '@mikro-orm/postgresql';
import type Stripe from 'stripe';
import type { BillingInterval, CheckoutProvider, PlanChange } from '../../../shared/schemas/billing.ts';
import { AppError } from '../../common/app-error.ts';
import * as billing from './billing.service.ts';
import {
  type CheckoutResult,
  describeItem,
  type Item,
  polarProductOf,
  stripePriceOf,
} from './checkout-item.ts';
import * as dev from './dev-checkout.ts';
import type { PaymentWebhookDeps } from './payment-webhooks.ts';
import * as polarEvents from './polar-events.ts';
import { subscriptionChanged } from './stripe-events.ts';
import type { Subscription } from './subscription.entity.ts';
import * as subscriptions from './subscriptions.service.ts';

export async function changePlan(
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

export async function cancelScheduledChange(
  em: EntityManager,
  deps: PaymentWebhookDeps,
  current: Subscription,
) {
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
