// The local dev checkout, on only outside production with no payment provider configured (or
// DEV_CHECKOUT=true, refused in production): a signed, expiring token for a local page whose "Pay"
// makes us send ourselves the Stripe events a real checkout would — correctly signed, through
// receiveStripeWebhook — so the dev path exercises the same code as production. It mirrors the rest
// of Stripe's lifecycle the same way: upgrades (customer.subscription.updated + a proration
// invoice.paid), cancel/resume, and renewals at period end (billing-cycle job), where a scheduled
// downgrade takes effect and a subscription set to cancel ends.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { type BillingInterval, LIVE_SUBSCRIPTION_STATUSES } from '../../../shared/schemas/billing.ts';
import { AppError } from '../../common/app-error.ts';
import { getSigningSecret } from '../settings/settings.service.ts';
import { isDevId } from './billing.service.ts';
import { Checkout } from './checkout.entity.ts';
import { type PaymentWebhookDeps, receiveStripeWebhook, stripeWebhookSecret } from './payment-webhooks.ts';
import type { Plan } from './plan.entity.ts';
import { signStripePayload } from './stripe-client.ts';
import { Subscription } from './subscription.entity.ts';
import { addMonths } from './subscriptions.service.ts';

export const DEV_TOKEN_TTL_SECONDS = 30 * 60;

type DevToken = { c: string; u: string; e: number };

function requireDevCheckout(deps: Pick<PaymentWebhookDeps, 'config'>) {
  if (!deps.config.devCheckout) {
    throw new AppError(
      'unavailable',
      'The dev checkout is off on this server (a payment provider is configured)',
    );
  }
}

async function tokenKey(em: EntityManager) {
  return createHmac('sha256', await getSigningSecret(em))
    .update('dev-checkout-token')
    .digest();
}

/** The dev checkout page's URL for a checkout row. */
export async function devCheckoutUrl(
  em: EntityManager,
  checkout: { id: string; userId: string; expiresAt: Date },
) {
  const body = Buffer.from(
    JSON.stringify({
      c: checkout.id,
      u: checkout.userId,
      e: Math.floor(checkout.expiresAt.getTime() / 1000),
    }),
  ).toString('base64url');
  const mac = createHmac('sha256', await tokenKey(em))
    .update(body)
    .digest('base64url');
  return `/billing/checkout?token=${encodeURIComponent(`${body}.${mac}`)}`;
}

async function readDevToken(em: EntityManager, userId: string, token: string) {
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
  const checkout = await em.findOne(
    Checkout,
    { id: parsed.c, user: userId, provider: 'dev' },
    { populate: ['plan', 'creditPackage'], refresh: true },
  );
  if (!checkout) throw new AppError('not_found', 'No such checkout');
  return checkout;
}

/** What the dev checkout page shows: what the checkout sold, as recorded when it was offered. */
export async function describeDevCheckout(em: EntityManager, userId: string, token: string) {
  const checkout = await readDevToken(em, userId, token);
  return {
    kind: checkout.kind === 'credit_package' ? ('package' as const) : ('plan' as const),
    name: checkout.itemName,
    amountCents: checkout.amountCents,
    currency: checkout.currency,
    interval: checkout.interval ?? null,
    credits: checkout.credits,
    status: checkout.status,
  };
}

export const devCustomerId = (userId: string) => `cus_dev_${userId.replaceAll('-', '')}`;
const compact = (id: string) => id.replaceAll('-', '');
const devPriceId = (planKey: string, interval: BillingInterval) => `price_dev_${planKey}_${interval}`;
const seconds = (value: Date) => Math.floor(value.getTime() / 1000);

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

async function deliver(deps: PaymentWebhookDeps, event: object) {
  const payload = JSON.stringify(event);
  const signature = signStripePayload(payload, await stripeWebhookSecret(deps, deps.orm.em.fork()));
  await receiveStripeWebhook(deps, Buffer.from(payload), signature);
}

type DevSubscription = {
  id: string;
  userId: string;
  plan: { key: string; credits: number };
  price: { amountCents: number; currency: string; interval: BillingInterval };
  status: string;
  cancelAtPeriodEnd: boolean;
  period: { start: number; end: number };
  checkoutId?: string | null;
};

function subscriptionObject(sub: DevSubscription) {
  return {
    id: sub.id,
    object: 'subscription',
    customer: devCustomerId(sub.userId),
    status: sub.status,
    currency: sub.price.currency,
    cancel_at_period_end: sub.cancelAtPeriodEnd,
    canceled_at: null,
    trial_start: null,
    trial_end: null,
    metadata: {
      userId: sub.userId,
      planKey: sub.plan.key,
      credits: String(sub.plan.credits),
      ...(sub.checkoutId ? { checkoutId: sub.checkoutId } : {}),
    },
    items: {
      object: 'list',
      data: [
        {
          id: `si_dev_${sub.id.slice(8)}`,
          object: 'subscription_item',
          current_period_start: sub.period.start,
          current_period_end: sub.period.end,
          price: {
            id: devPriceId(sub.plan.key, sub.price.interval),
            object: 'price',
            unit_amount: sub.price.amountCents,
            currency: sub.price.currency,
            recurring: { interval: sub.price.interval, interval_count: 1 },
          },
        },
      ],
    },
  };
}

function invoiceObject(
  id: string,
  sub: DevSubscription,
  amountCents: number,
  billingReason: string,
  period: { start: number; end: number },
) {
  return {
    id,
    object: 'invoice',
    customer: devCustomerId(sub.userId),
    amount_paid: amountCents,
    currency: sub.price.currency,
    billing_reason: billingReason,
    parent: { type: 'subscription_details', subscription_details: { subscription: sub.id } },
    payments: {
      object: 'list',
      data: [{ payment: { type: 'payment_intent', payment_intent: `pi_dev_${id.slice(7)}` } }],
    },
    lines: { object: 'list', data: [{ period }] },
  };
}

const periodFrom = (start: Date, interval: BillingInterval) => ({
  start: seconds(start),
  end: seconds(addMonths(start, interval === 'year' ? 12 : 1)),
});

/**
 * The dev "Stripe" charging a saved card off-session (auto top-up): the payment succeeds, and
 * `payment_intent.succeeded` comes back signed through the real webhook path, as Stripe's would.
 */
export async function devChargeSavedCard(
  deps: PaymentWebhookDeps,
  charge: {
    checkoutId: string;
    userId: string;
    amountCents: number;
    currency: string;
    metadata: Record<string, string>;
  },
) {
  requireDevCheckout(deps);
  const intent = {
    id: `pi_dev_${compact(charge.checkoutId)}`,
    object: 'payment_intent',
    status: 'succeeded',
    amount: charge.amountCents,
    amount_received: charge.amountCents,
    currency: charge.currency,
    customer: devCustomerId(charge.userId),
    off_session: true,
    metadata: charge.metadata,
  };
  await deliver(deps, stripeEvent('payment_intent.succeeded', intent, Math.floor(Date.now() / 1000)));
  return intent.id;
}

/**
 * The dev checkout's "Pay": sends the events Stripe would send for this checkout, signed, through
 * the real webhook path. Completing the same checkout twice credits once (same ids).
 */
export async function completeDevCheckout(
  em: EntityManager,
  deps: PaymentWebhookDeps,
  userId: string,
  token: string,
) {
  requireDevCheckout(deps);
  const checkout = await readDevToken(em, userId, token);
  const now = Math.floor(Date.now() / 1000);
  const session = {
    id: `cs_dev_${compact(checkout.id)}`,
    object: 'checkout.session',
    payment_status: 'paid',
    status: 'complete',
    client_reference_id: userId,
    customer: devCustomerId(userId),
    amount_total: checkout.amountCents,
    currency: checkout.currency,
  };
  if (checkout.kind === 'credit_package') {
    await deliver(
      deps,
      stripeEvent(
        'checkout.session.completed',
        {
          ...session,
          mode: 'payment',
          payment_intent: `pi_dev_${compact(checkout.id)}`,
          metadata: {
            userId,
            checkoutId: checkout.id,
            packageId: checkout.creditPackage?.id ?? '',
            credits: String(checkout.credits),
          },
        },
        now,
      ),
    );
    return { kind: 'package' as const };
  }
  const subscriptionId = `sub_dev_${compact(checkout.id)}`;
  const live = await em.findOne(
    Subscription,
    { user: userId, status: { $in: [...LIVE_SUBSCRIPTION_STATUSES] } },
    { refresh: true },
  );
  if (live && live.externalSubscriptionId !== subscriptionId) {
    throw new AppError('conflict', 'You already have a subscription: change your plan from the pricing page');
  }
  if (!checkout.plan || !checkout.interval) throw new AppError('not_found', 'This checkout sells no plan');
  const sub: DevSubscription = {
    id: subscriptionId,
    userId,
    plan: { key: checkout.plan.key, credits: checkout.credits },
    price: { amountCents: checkout.amountCents, currency: checkout.currency, interval: checkout.interval },
    status: 'active',
    cancelAtPeriodEnd: false,
    period: periodFrom(new Date(now * 1000), checkout.interval),
    checkoutId: checkout.id,
  };
  await deliver(
    deps,
    stripeEvent(
      'checkout.session.completed',
      {
        ...session,
        mode: 'subscription',
        subscription: subscriptionId,
        metadata: {
          userId,
          checkoutId: checkout.id,
          planKey: checkout.plan.key,
          credits: String(checkout.credits),
        },
      },
      now,
    ),
  );
  await deliver(deps, stripeEvent('customer.subscription.created', subscriptionObject(sub), now));
  await deliver(
    deps,
    stripeEvent(
      'invoice.paid',
      invoiceObject(
        `in_dev_${compact(checkout.id)}`,
        sub,
        checkout.amountCents,
        'subscription_create',
        sub.period,
      ),
      now,
    ),
  );
  return { kind: 'plan' as const };
}

/** The dev subscription as Stripe would describe it now (from our row). */
async function currentDevSubscription(
  em: EntityManager,
  subscription: Subscription,
): Promise<DevSubscription> {
  if (subscription.plan) await em.populate(subscription, ['plan']);
  const plan = subscription.plan;
  if (!plan) throw new AppError('not_found', 'This subscription has no plan');
  return {
    id: subscription.externalSubscriptionId,
    userId: subscription.user.id,
    plan: { key: plan.key, credits: subscription.creditsPerPeriod ?? plan.creditsPerPeriod },
    price: {
      amountCents: Math.round(Number(subscription.amount ?? 0) * 100),
      currency: subscription.currency ?? plan.currency,
      interval: subscription.interval ?? 'month',
    },
    status: subscription.status,
    cancelAtPeriodEnd: subscription.cancelAtPeriodEnd,
    period: {
      start: seconds(subscription.currentPeriodStart ?? new Date()),
      end: seconds(subscription.currentPeriodEnd ?? new Date()),
    },
  };
}

/** An event time after the stored state's: the dev "Stripe" never sends two states in one second. */
const nextCreated = (subscription: Subscription) =>
  Math.max(Math.floor(Date.now() / 1000), seconds(subscription.providerUpdatedAt) + 1);

/** Cancel at period end / resume, as Stripe would report it. */
export async function devSetCancelAtPeriodEnd(
  em: EntityManager,
  deps: PaymentWebhookDeps,
  subscription: Subscription,
  cancel: boolean,
) {
  requireDevCheckout(deps);
  const sub = await currentDevSubscription(em, subscription);
  await deliver(
    deps,
    stripeEvent(
      'customer.subscription.updated',
      subscriptionObject({ ...sub, cancelAtPeriodEnd: cancel }),
      nextCreated(subscription),
    ),
  );
}

/**
 * An upgrade now, as Stripe does with proration_behavior=always_invoice: the subscription's item
 * moves to the new price (same period), and the prorated difference is invoiced and paid.
 */
export async function devUpgrade(
  em: EntityManager,
  deps: PaymentWebhookDeps,
  subscription: Subscription,
  target: { plan: Plan; interval: BillingInterval; amountCents: number; credits: number },
) {
  requireDevCheckout(deps);
  const sub = await currentDevSubscription(em, subscription);
  const created = nextCreated(subscription);
  const upgraded: DevSubscription = {
    ...sub,
    plan: { key: target.plan.key, credits: target.credits },
    price: { amountCents: target.amountCents, currency: target.plan.currency, interval: target.interval },
  };
  const left = Math.max(0, sub.period.end - created) / Math.max(1, sub.period.end - sub.period.start);
  const prorated = Math.max(0, Math.round((target.amountCents - sub.price.amountCents) * left));
  await deliver(deps, stripeEvent('customer.subscription.updated', subscriptionObject(upgraded), created));
  await deliver(
    deps,
    stripeEvent(
      'invoice.paid',
      invoiceObject(`in_dev_${randomBytes(10).toString('hex')}`, upgraded, prorated, 'subscription_update', {
        start: created,
        end: sub.period.end,
      }),
      created,
    ),
  );
}

/**
 * The dev "Stripe" at period end (billing-cycle job): a subscription set to cancel ends; any other
 * live dev subscription renews — on its scheduled plan if a downgrade was waiting — with a paid
 * renewal invoice. Returns how many subscriptions it moved.
 */
export async function renewDevSubscriptions(deps: PaymentWebhookDeps & { orm: MikroORM }, now = new Date()) {
  if (!deps.config.devCheckout) return 0;
  const em = deps.orm.em.fork();
  const due = await em.find(
    Subscription,
    {
      provider: 'stripe',
      externalSubscriptionId: { $like: 'sub\\_dev\\_%' },
      status: { $in: [...LIVE_SUBSCRIPTION_STATUSES] },
      currentPeriodEnd: { $lte: now },
    },
    { populate: ['plan', 'scheduledPlan'], limit: 500 },
  );
  let moved = 0;
  for (const subscription of due) {
    if (!isDevId(subscription.externalSubscriptionId) || !subscription.currentPeriodEnd) continue;
    const sub = await currentDevSubscription(em, subscription);
    const created = nextCreated(subscription);
    if (subscription.cancelAtPeriodEnd) {
      await deliver(
        deps,
        stripeEvent(
          'customer.subscription.deleted',
          subscriptionObject({ ...sub, status: 'canceled' }),
          created,
        ),
      );
      moved++;
      continue;
    }
    const next = subscription.scheduledPlan ?? subscription.plan;
    if (!next) continue;
    const interval = subscription.scheduledInterval ?? sub.price.interval;
    const switched = Boolean(subscription.scheduledPlan);
    const renewed: DevSubscription = {
      ...sub,
      plan: { key: next.key, credits: switched ? next.creditsPerPeriod : sub.plan.credits },
      price: switched
        ? {
            amountCents: interval === 'year' ? next.priceYearlyCents : next.priceMonthlyCents,
            currency: next.currency,
            interval,
          }
        : sub.price,
      period: periodFrom(subscription.currentPeriodEnd, interval),
    };
    await deliver(deps, stripeEvent('customer.subscription.updated', subscriptionObject(renewed), created));
    await deliver(
      deps,
      stripeEvent(
        'invoice.paid',
        invoiceObject(
          `in_dev_${compact(subscription.id).slice(0, 12)}${renewed.period.start}`,
          renewed,
          renewed.price.amountCents,
          'subscription_cycle',
          renewed.period,
        ),
        created,
      ),
    );
    moved++;
  }
  return moved;
}
