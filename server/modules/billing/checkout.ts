// billing.checkout: records what is sold (a Checkout row: credits, price, name — fixed here) and
// returns where to pay: the local dev checkout when it is on (never in production; dev-checkout.ts),
// else a Stripe Checkout Session (STRIPE_SECRET_KEY), else a Polar checkout (POLAR_ACCESS_TOKEN).
// A user who already has a live subscription changes plan instead of buying a second one
// (plan-changes.ts). Cancel/resume and the customer portal are in their own files.
import type { EntityManager } from '@mikro-orm/postgresql';
import type Stripe from 'stripe';
import type { CheckoutProvider } from '../../../shared/schemas/billing.ts';
import { AppError } from '../../common/app-error.ts';
import { sql } from '../../db/sql.ts';
import * as billing from './billing.service.ts';
import { Checkout } from './checkout.entity.ts';
import {
  type CheckoutCommand,
  type CheckoutResult,
  describeItem,
  type Item,
  polarProductOf,
  stripePriceOf,
} from './checkout-item.ts';
import * as dev from './dev-checkout.ts';
import type { PaymentWebhookDeps } from './payment-webhooks.ts';
import { changePlan } from './plan-changes.ts';

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

export async function createCheckout(
  em: EntityManager,
  deps: PaymentWebhookDeps,
  user: { id: string; email: string },
  input: CheckoutCommand,
): Promise<CheckoutResult> {
  // One checkout or plan change at a time per user: two tabs cannot open two plan checkouts side by
  // side, nor change the plan twice (the second one then sees the first one's result).
  await sql(em, "select pg_advisory_xact_lock(hashtextextended('checkout:' || $1, 0))", [user.id]);
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
