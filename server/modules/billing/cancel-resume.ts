// billing.cancel / billing.resume: cancel at period end, or take the cancellation back, at the
// provider (or the dev checkout's signed events), and answer the subscription as it is now.
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError } from '../../common/app-error.ts';
import { toSubscriptionDto } from './billing.dto.ts';
import * as billing from './billing.service.ts';
import * as dev from './dev-checkout.ts';
import type { PaymentWebhookDeps } from './payment-webhooks.ts';
import { cancelScheduledChange } from './plan-changes.ts';
import * as polarEvents from './polar-events.ts';
import { subscriptionChanged } from './stripe-events.ts';
import * as subscriptions from './subscriptions.service.ts';

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
