// Verifies a payment provider's webhook, then hands it to the inbox (store, dedupe, apply once).
// Stripe: the official SDK (signature + 5-minute timestamp tolerance). Polar: Standard Webhooks,
// keyed with the base64 of POLAR_WEBHOOK_SECRET as Polar's own SDK does. A correctly signed body
// that is not an event (null, {}, no data, not JSON) is stored as rejected and answered 400.
import { createHmac } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import type Stripe from 'stripe';
import type { Config } from '../../config.ts';
import { getSigningSecret } from '../settings/settings.service.ts';
import type { PolarClient } from './polar-client.ts';
import { applyPolarEvent, type PolarEvent } from './polar-events.ts';
import { verifyStripeSignature } from './stripe-client.ts';
import { applyStripeEvent } from './stripe-events.ts';
import { type ApplyResult, receiveEvent, rejectEvent } from './webhook-inbox.ts';

export class WebhookSignatureError extends Error {}
export class WebhookNotConfiguredError extends Error {}
export { WebhookRejectedError } from './webhook-inbox.ts';

export type PaymentWebhookDeps = {
  orm: MikroORM;
  config: Config;
  stripe: Stripe | null;
  polar: PolarClient | null;
};

/**
 * The secret Stripe webhooks are verified with: STRIPE_WEBHOOK_SECRET, or — only while the dev
 * checkout is on (never in production) — its own secret, derived from this installation's signing
 * secret, with which it signs the events it sends itself.
 */
export async function stripeWebhookSecret(deps: { config: Config }, em: EntityManager) {
  if (deps.config.stripe.webhookSecret) return deps.config.stripe.webhookSecret;
  if (!deps.config.devCheckout) throw new WebhookNotConfiguredError('STRIPE_WEBHOOK_SECRET is not set');
  const derived = createHmac('sha256', await getSigningSecret(em))
    .update('dev-checkout-stripe-webhooks')
    .digest('base64url');
  return `whsec_dev_${derived}`;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function parse(rawBody: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(rawBody.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

export async function receiveStripeWebhook(
  deps: PaymentWebhookDeps,
  rawBody: Buffer,
  signature: string | undefined,
): Promise<ApplyResult> {
  const secret = await stripeWebhookSecret(deps, deps.orm.em.fork());
  try {
    verifyStripeSignature(rawBody, signature ?? '', secret);
  } catch (cause) {
    throw new WebhookSignatureError(`Invalid Stripe signature: ${(cause as Error).message}`);
  }
  const parsed = parse(rawBody);
  if (!parsed.ok) return rejectEvent(deps.orm, 'stripe', null, rawBody, 'The signed body is not JSON');
  const event = parsed.value;
  if (
    !isObject(event) ||
    typeof event.id !== 'string' ||
    !event.id ||
    typeof event.type !== 'string' ||
    !event.type ||
    typeof event.created !== 'number' ||
    !isObject(event.data) ||
    !isObject(event.data.object)
  ) {
    const id = isObject(event) && typeof event.id === 'string' && event.id ? `rejected:${event.id}` : null;
    return rejectEvent(deps.orm, 'stripe', id, rawBody, 'The signed body is not a Stripe event');
  }
  const stripeEvent = event as unknown as Stripe.Event;
  return receiveEvent(
    deps.orm,
    'stripe',
    { id: stripeEvent.id, type: stripeEvent.type, payload: event },
    (em) => applyStripeEvent(em, { stripe: deps.stripe, config: deps.config }, stripeEvent),
  );
}

export async function receivePolarWebhook(
  deps: PaymentWebhookDeps,
  rawBody: Buffer,
  headers: Record<string, string | string[] | undefined>,
): Promise<ApplyResult> {
  const secret = deps.config.polar.webhookSecret;
  if (!secret) throw new WebhookNotConfiguredError('POLAR_WEBHOOK_SECRET is not set');
  const header = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
  };
  let event: unknown;
  try {
    event = new Webhook(Buffer.from(secret, 'utf8').toString('base64')).verify(rawBody.toString('utf8'), {
      'webhook-id': header('webhook-id'),
      'webhook-timestamp': header('webhook-timestamp'),
      'webhook-signature': header('webhook-signature'),
    });
  } catch (cause) {
    if (cause instanceof WebhookVerificationError)
      throw new WebhookSignatureError(`Invalid Polar signature: ${cause.message}`);
    // The signature held (verify checks it before parsing): the body is just not JSON.
    return rejectEvent(deps.orm, 'polar', header('webhook-id'), rawBody, 'The signed body is not JSON');
  }
  if (!isObject(event) || typeof event.type !== 'string' || !event.type || !isObject(event.data)) {
    return rejectEvent(
      deps.orm,
      'polar',
      header('webhook-id'),
      rawBody,
      'The signed body is not a Polar event',
    );
  }
  const polarEvent = event as PolarEvent;
  const receivedAt = new Date(Number(header('webhook-timestamp')) * 1000);
  const id = header('webhook-id');
  return receiveEvent(deps.orm, 'polar', { id, type: polarEvent.type, payload: event }, (em) =>
    applyPolarEvent(em, { polar: deps.polar }, polarEvent, { id, receivedAt }),
  );
}
