// Provider payloads for billing tests: Stripe objects shaped like the API's (subscriptions, invoices,
// charges, disputes) and delivery to the real webhook routes over HTTP.
import { randomBytes } from 'node:crypto';
import type { TestServer } from './http.ts';

export const nowSeconds = () => Math.floor(Date.now() / 1000);
export const randomId = (prefix: string) => `${prefix}_${randomBytes(6).toString('hex')}`;

export async function postStripe(server: TestServer, event: { payload: string; signature: string }) {
  const response = await fetch(`${server.baseUrl}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': event.signature },
    body: event.payload,
  });
  return response.status;
}

export async function postPolar(
  server: TestServer,
  event: { payload: string; headers: Record<string, string> },
) {
  const response = await fetch(`${server.baseUrl}/webhooks/polar`, {
    method: 'POST',
    headers: event.headers,
    body: event.payload,
  });
  return response.status;
}

export const customerOf = (userId: string) => `cus_${userId.replaceAll('-', '')}`;

export function stripeSubscription(
  userId: string,
  id: string,
  fields: {
    status?: string;
    cancelAtPeriodEnd?: boolean;
    priceId?: string;
    planKey?: string;
    credits?: number;
    amount?: number;
    interval?: 'month' | 'year';
    periodStart?: number;
    periodEnd?: number;
  } = {},
) {
  const start = fields.periodStart ?? nowSeconds();
  return {
    id,
    object: 'subscription',
    customer: customerOf(userId),
    status: fields.status ?? 'active',
    cancel_at_period_end: fields.cancelAtPeriodEnd ?? false,
    canceled_at: null,
    trial_start: null,
    trial_end: null,
    currency: 'usd',
    schedule: null,
    metadata: {
      userId,
      planKey: fields.planKey ?? '',
      ...(fields.credits !== undefined ? { credits: String(fields.credits) } : {}),
    },
    items: {
      object: 'list',
      data: [
        {
          id: `si_${id}`,
          object: 'subscription_item',
          current_period_start: start,
          current_period_end: fields.periodEnd ?? start + (fields.interval === 'year' ? 365 : 30) * 86_400,
          price: {
            id: fields.priceId ?? 'price_x',
            object: 'price',
            unit_amount: fields.amount ?? 1900,
            currency: 'usd',
            recurring: { interval: fields.interval ?? 'month', interval_count: 1 },
          },
        },
      ],
    },
  };
}

export function stripeInvoice(
  subscriptionId: string,
  fields: {
    id?: string;
    amount?: number;
    periodStart?: number;
    periodEnd?: number;
    billingReason?: string;
    paymentIntent?: string;
    hostedUrl?: string;
  } = {},
) {
  const start = fields.periodStart ?? nowSeconds();
  return {
    id: fields.id ?? randomId('in'),
    object: 'invoice',
    amount_paid: fields.amount ?? 1900,
    currency: 'usd',
    billing_reason: fields.billingReason ?? 'subscription_create',
    hosted_invoice_url: fields.hostedUrl ?? null,
    parent: { type: 'subscription_details', subscription_details: { subscription: subscriptionId } },
    payments: {
      object: 'list',
      data: fields.paymentIntent
        ? [{ payment: { type: 'payment_intent', payment_intent: fields.paymentIntent } }]
        : [],
    },
    lines: {
      object: 'list',
      data: [{ period: { start, end: fields.periodEnd ?? start + 30 * 86_400 } }],
    },
  };
}

export function stripeCheckoutSession(
  userId: string,
  packageId: string,
  fields: {
    id?: string;
    amount?: number;
    checkoutId?: string;
    credits?: number;
    paymentIntent?: string;
  } = {},
) {
  const id = fields.id ?? randomId('cs');
  return {
    id,
    object: 'checkout.session',
    mode: 'payment',
    status: 'complete',
    payment_status: 'paid',
    client_reference_id: userId,
    customer: customerOf(userId),
    payment_intent: fields.paymentIntent ?? `pi_${id}`,
    amount_total: fields.amount ?? 1000,
    currency: 'usd',
    metadata: {
      userId,
      packageId,
      ...(fields.checkoutId ? { checkoutId: fields.checkoutId } : {}),
      ...(fields.credits !== undefined ? { credits: String(fields.credits) } : {}),
    },
  };
}

export function stripeCharge(
  paymentIntent: string,
  fields: { amount?: number; refunded?: number; id?: string } = {},
) {
  return {
    id: fields.id ?? `ch_${paymentIntent.slice(3)}`,
    object: 'charge',
    amount: fields.amount ?? 1000,
    amount_refunded: fields.refunded ?? 0,
    refunded: (fields.refunded ?? 0) >= (fields.amount ?? 1000),
    currency: 'usd',
    payment_intent: paymentIntent,
    receipt_url: `https://pay.stripe.com/receipts/${paymentIntent}`,
    status: 'succeeded',
  };
}

export function stripeDispute(
  paymentIntent: string,
  fields: { id?: string; amount?: number; status?: string; charge?: string } = {},
) {
  return {
    id: fields.id ?? randomId('dp'),
    object: 'dispute',
    amount: fields.amount ?? 1000,
    currency: 'usd',
    charge: fields.charge ?? `ch_${paymentIntent.slice(3)}`,
    payment_intent: paymentIntent,
    reason: 'fraudulent',
    status: fields.status ?? 'needs_response',
  };
}
