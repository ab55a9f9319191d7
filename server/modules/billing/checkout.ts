// Checkout, cancel and resume. With STRIPE_SECRET_KEY: a Stripe Checkout Session through the SDK
// (with the user's Stripe customer when they have one), and cancel/resume through the API. Without
// any payment provider: the dev checkout — a signed, expiring token for a local page whose "Pay"
// button makes us send ourselves the Stripe events a real checkout would (correctly signed, through
// receiveStripeWebhook), so the dev path exercises the same code as production.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { BillingInterval, CheckoutInput } from '../../../shared/schemas/billing.ts';
import { AppError } from '../../common/app-error.ts';
import { getSigningSecret } from '../settings/settings.service.ts';
import { toSubscriptionDto } from './billing.dto.ts';
import * as billing from './billing.service.ts';
import { type PaymentWebhookDeps, receiveStripeWebhook, stripeWebhookSecret } from './payment-webhooks.ts';
import { signStripePayload } from './stripe-client.ts';
import { subscriptionChanged } from './stripe-events.ts';
import type { Subscription } from './subscription.entity.ts';

type CheckoutCommand =
  | { kind: 'package'; packageId: string }
  | { kind: 'plan'; planKey: string; interval: BillingInterval };

const DEV_TOKEN_TTL_SECONDS = 30 * 60;

// ---- checkout --------------------------------------------------------------------------------

export async function createCheckout(
  em: EntityManager,
  deps: PaymentWebhookDeps,
  user: { id: string; email: string },
  input: CheckoutCommand,
): Promise<{ url: string; provider: 'stripe' | 'dev' }> {
  // Validate what is being bought first, whichever provider sells it.
  const item = await describeItem(em, input);
  if (!deps.stripe) {
    const token = await signDevToken(em, {
      u: user.id,
      ...input,
      n: randomBytes(9).toString('base64url'),
      e: expiry(),
    });
    return { url: `/billing/checkout?token=${encodeURIComponent(token)}`, provider: 'dev' };
  }
  const customer = await billing.customerOf(em, user.id, 'stripe');
  const base = deps.config.publicUrl;
  const common = {
    client_reference_id: user.id,
    success_url: `${base}/billing?checkout=success`,
    cancel_url: `${base}/pricing?checkout=canceled`,
    ...(customer ? { customer: customer.externalCustomerId } : { customer_email: user.email }),
  };
  const session =
    item.kind === 'package'
      ? await deps.stripe.checkout.sessions.create({
          ...common,
          mode: 'payment',
          ...(customer ? {} : { customer_creation: 'always' as const }),
          metadata: { userId: user.id, packageId: item.pkg.id },
          line_items: [
            item.pkg.stripePriceId
              ? { price: item.pkg.stripePriceId, quantity: 1 }
              : {
                  quantity: 1,
                  price_data: {
                    currency: item.pkg.currency,
                    unit_amount: item.pkg.priceCents,
                    product_data: { name: item.pkg.name },
                  },
                },
          ],
        })
      : await deps.stripe.checkout.sessions.create({
          ...common,
          mode: 'subscription',
          metadata: { userId: user.id, planKey: item.plan.key },
          subscription_data: { metadata: { userId: user.id, planKey: item.plan.key } },
          line_items: [
            item.priceId
              ? { price: item.priceId, quantity: 1 }
              : {
                  quantity: 1,
                  price_data: {
                    currency: item.plan.currency,
                    unit_amount: item.amountCents,
                    recurring: { interval: item.interval },
                    product_data: { name: item.plan.name },
                  },
                },
          ],
        });
  if (!session.url) throw new Error('Stripe returned a checkout session without a URL');
  return { url: session.url, provider: 'stripe' };
}

async function describeItem(em: EntityManager, input: CheckoutCommand) {
  if (input.kind === 'package') {
    const pkg = await billing.findPackage(em, input.packageId);
    return {
      kind: 'package' as const,
      pkg,
      amountCents: pkg.priceCents,
      currency: pkg.currency,
      name: pkg.name,
    };
  }
  const plan = await billing.findPlanByKey(em, input.planKey);
  const amountCents = input.interval === 'year' ? plan.priceYearlyCents : plan.priceMonthlyCents;
  if (plan.ctaType !== 'checkout' || amountCents <= 0) {
    throw new AppError(
      'bad_request',
      `The ${plan.name} plan cannot be bought ${input.interval === 'year' ? 'yearly' : 'monthly'}`,
      {
        fieldErrors: { planKey: ['This plan is not sold through checkout'] },
      },
    );
  }
  const priceId = input.interval === 'year' ? plan.externalPriceYearlyId : plan.externalPriceMonthlyId;
  return {
    kind: 'plan' as const,
    plan,
    interval: input.interval,
    priceId,
    amountCents,
    currency: plan.currency,
    name: plan.name,
  };
}

// ---- the dev checkout ------------------------------------------------------------------------

type DevToken = CheckoutCommand & { u: string; n: string; e: number };
const expiry = () => Math.floor(Date.now() / 1000) + DEV_TOKEN_TTL_SECONDS;

async function tokenKey(em: EntityManager) {
  return createHmac('sha256', await getSigningSecret(em))
    .update('dev-checkout-token')
    .digest();
}

async function signDevToken(em: EntityManager, token: DevToken) {
  const body = Buffer.from(JSON.stringify(token)).toString('base64url');
  const mac = createHmac('sha256', await tokenKey(em))
    .update(body)
    .digest('base64url');
  return `${body}.${mac}`;
}

async function readDevToken(em: EntityManager, userId: string, token: string): Promise<DevToken> {
  const [body = '', mac = ''] = token.split('.');
  const expected = createHmac('sha256', await tokenKey(em))
    .update(body)
    .digest();
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AppError('bad_request', 'This checkout link is not valid', {
      fieldErrors: { token: ['Invalid checkout link'] },
    });
  }
  const parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as DevToken;
  if (parsed.u !== userId) throw new AppError('not_found', 'No such checkout');
  if (parsed.e < Date.now() / 1000) {
    throw new AppError('bad_request', 'This checkout has expired; start again', {
      fieldErrors: { token: ['Expired'] },
    });
  }
  return parsed;
}

/** What the dev checkout page shows. */
export async function describeDevCheckout(em: EntityManager, userId: string, token: string) {
  const parsed = await readDevToken(em, userId, token);
  const item = await describeItem(em, parsed);
  return {
    kind: item.kind,
    name: item.name,
    amountCents: item.amountCents,
    currency: item.currency,
    interval: item.kind === 'plan' ? item.interval : null,
    credits: item.kind === 'package' ? item.pkg.credits : item.plan.creditsPerPeriod,
  };
}

const devCustomerId = (userId: string) => `cus_dev_${userId.replaceAll('-', '')}`;

function stripeEvent(type: string, object: Record<string, unknown>, created: number) {
  return {
    id: `evt_dev_${randomBytes(12).toString('hex')}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created,
    livemode: false,
    pending_webhooks: 0,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
  };
}

async function deliver(em: EntityManager, deps: PaymentWebhookDeps, event: object) {
  const payload = JSON.stringify(event);
  const signature = signStripePayload(payload, await stripeWebhookSecret(deps, em));
  await receiveStripeWebhook(deps, Buffer.from(payload), signature);
}

function subscriptionObject(
  sub: {
    id: string;
    customer: string;
    userId: string;
    planKey: string;
    status: string;
    cancelAtPeriodEnd: boolean;
  },
  price: { id: string; amountCents: number; currency: string; interval: BillingInterval },
  period: { start: number; end: number },
) {
  return {
    id: sub.id,
    object: 'subscription',
    customer: sub.customer,
    status: sub.status,
    currency: price.currency,
    cancel_at_period_end: sub.cancelAtPeriodEnd,
    canceled_at: null,
    trial_start: null,
    trial_end: null,
    metadata: { userId: sub.userId, planKey: sub.planKey },
    items: {
      object: 'list',
      data: [
        {
          id: `si_dev_${sub.id.slice(8)}`,
          object: 'subscription_item',
          current_period_start: period.start,
          current_period_end: period.end,
          price: {
            id: price.id,
            object: 'price',
            unit_amount: price.amountCents,
            currency: price.currency,
            recurring: { interval: price.interval, interval_count: 1 },
          },
        },
      ],
    },
  };
}

/**
 * The dev checkout's "Pay": sends the events Stripe would send for this checkout, signed, through
 * the real webhook path. Completing the same checkout twice credits once (same session ids).
 */
export async function completeDevCheckout(
  em: EntityManager,
  deps: PaymentWebhookDeps,
  userId: string,
  token: string,
) {
  if (deps.stripe) throw new AppError('bad_request', 'The dev checkout is off: Stripe is configured');
  const parsed = await readDevToken(em, userId, token);
  const item = await describeItem(em, parsed);
  const now = Math.floor(Date.now() / 1000);
  const customer = devCustomerId(userId);
  if (item.kind === 'package') {
    await deliver(
      em,
      deps,
      stripeEvent(
        'checkout.session.completed',
        {
          id: `cs_dev_${parsed.n}`,
          object: 'checkout.session',
          mode: 'payment',
          payment_status: 'paid',
          status: 'complete',
          client_reference_id: userId,
          customer,
          payment_intent: `pi_dev_${parsed.n}`,
          amount_total: item.amountCents,
          currency: item.currency,
          metadata: { userId, packageId: item.pkg.id },
        },
        now,
      ),
    );
    return { kind: 'package' as const };
  }
  const subscriptionId = `sub_dev_${parsed.n}`;
  const end = new Date(now * 1000);
  if (item.interval === 'year') end.setUTCFullYear(end.getUTCFullYear() + 1);
  else end.setUTCMonth(end.getUTCMonth() + 1);
  const period = { start: now, end: Math.floor(end.getTime() / 1000) };
  const price = {
    id: `price_dev_${item.plan.key}_${item.interval}`,
    amountCents: item.amountCents,
    currency: item.currency,
    interval: item.interval,
  };
  await deliver(
    em,
    deps,
    stripeEvent(
      'checkout.session.completed',
      {
        id: `cs_dev_${parsed.n}`,
        object: 'checkout.session',
        mode: 'subscription',
        payment_status: 'paid',
        status: 'complete',
        client_reference_id: userId,
        customer,
        subscription: subscriptionId,
        amount_total: item.amountCents,
        currency: item.currency,
        metadata: { userId, planKey: item.plan.key },
      },
      now,
    ),
  );
  await deliver(
    em,
    deps,
    stripeEvent(
      'customer.subscription.created',
      subscriptionObject(
        {
          id: subscriptionId,
          customer,
          userId,
          planKey: item.plan.key,
          status: 'active',
          cancelAtPeriodEnd: false,
        },
        price,
        period,
      ),
      now,
    ),
  );
  await deliver(
    em,
    deps,
    stripeEvent(
      'invoice.paid',
      {
        id: `in_dev_${parsed.n}`,
        object: 'invoice',
        customer,
        amount_paid: item.amountCents,
        currency: item.currency,
        parent: { type: 'subscription_details', subscription_details: { subscription: subscriptionId } },
        lines: { object: 'list', data: [{ period }] },
      },
      now,
    ),
  );
  return { kind: 'plan' as const };
}

// ---- cancel and resume -----------------------------------------------------------------------

async function liveSubscriptionOf(em: EntityManager, userId: string) {
  const subscription = await billing.findCurrentSubscription(em, userId);
  if (!subscription || !['trialing', 'active', 'past_due'].includes(subscription.status)) {
    throw new AppError('not_found', 'You have no active subscription');
  }
  return subscription;
}

/** Cancels at period end (cancel = true) or takes the cancellation back (cancel = false). */
export async function setCancelAtPeriodEnd(
  em: EntityManager,
  deps: PaymentWebhookDeps,
  userId: string,
  cancel: boolean,
) {
  const subscription = await liveSubscriptionOf(em, userId);
  if (subscription.cancelAtPeriodEnd === cancel) return toSubscriptionDto(subscription);
  if (subscription.provider !== 'stripe') {
    throw new AppError('bad_request', 'Manage this subscription in your Polar customer portal');
  }
  const isDev = subscription.externalSubscriptionId.startsWith('sub_dev_');
  if (isDev) {
    await deliver(em, deps, devSubscriptionUpdate(subscription, userId, cancel));
  } else {
    if (!deps.stripe) throw new AppError('bad_request', 'Stripe is not configured');
    const updated = await deps.stripe.subscriptions.update(subscription.externalSubscriptionId, {
      cancel_at_period_end: cancel,
    });
    await subscriptionChanged(em, updated, new Date(), 'customer.subscription.updated');
    await em.flush();
  }
  const fresh = await billing.findCurrentSubscription(em.fork(), userId);
  return toSubscriptionDto(fresh ?? subscription);
}

function devSubscriptionUpdate(subscription: Subscription, userId: string, cancel: boolean) {
  const seconds = (value: Date | null | undefined) => Math.floor((value?.getTime() ?? Date.now()) / 1000);
  const created = Math.max(Math.floor(Date.now() / 1000), seconds(subscription.providerUpdatedAt));
  return stripeEvent(
    'customer.subscription.updated',
    subscriptionObject(
      {
        id: subscription.externalSubscriptionId,
        customer: devCustomerId(userId),
        userId,
        planKey: subscription.plan?.key ?? '',
        status: subscription.status,
        cancelAtPeriodEnd: cancel,
      },
      {
        id: subscription.priceId ?? 'price_dev',
        amountCents: Math.round(Number(subscription.amount ?? 0) * 100),
        currency: subscription.currency ?? 'usd',
        interval: subscription.interval ?? 'month',
      },
      { start: seconds(subscription.currentPeriodStart), end: seconds(subscription.currentPeriodEnd) },
    ),
    created,
  );
}

export type { CheckoutInput };
