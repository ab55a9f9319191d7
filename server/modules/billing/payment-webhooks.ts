// Verifies a payment provider's webhook, then hands it to the inbox (store, dedupe, apply once).
// Stripe: the official SDK (signature + 5-minute timestamp tolerance). Polar: Standard Webhooks,
// keyed with the base64 of POLAR_WEBHOOK_SECRET as Polar's own SDK does.
import { createHmac } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import type Stripe from 'stripe';
import type { Config } from '../../config.ts';
import { getSigningSecret } from '../settings/settings.service.ts';
import { applyPolarEvent, type PolarEvent } from './polar-events.ts';
import { verifyStripeEvent } from './stripe-client.ts';
import { applyStripeEvent } from './stripe-events.ts';
import { type ApplyResult, receiveEvent } from './webhook-inbox.ts';

export class WebhookSignatureError extends Error {}
export class WebhookNotConfiguredError extends Error {}

export type PaymentWebhookDeps = { orm: MikroORM; config: Config; stripe: Stripe | null };

/**
 * The secret Stripe webhooks are verified with: STRIPE_WEBHOOK_SECRET, or — with no Stripe account
 * configured at all — the dev checkout's own secret, derived from this installation's signing secret.
 */
export async function stripeWebhookSecret(
  deps: { config: Config; stripe: Stripe | null },
  em: EntityManager,
) {
  if (deps.config.stripe.webhookSecret) return deps.config.stripe.webhookSecret;
  if (deps.stripe) throw new WebhookNotConfiguredError('STRIPE_WEBHOOK_SECRET is not set');
  const derived = createHmac('sha256', await getSigningSecret(em))
    .update('dev-checkout-stripe-webhooks')
    .digest('base64url');
  return `whsec_dev_${derived}`;
}

export async function receiveStripeWebhook(
  deps: PaymentWebhookDeps,
  rawBody: Buffer,
  signature: string | undefined,
): Promise<ApplyResult> {
  const secret = await stripeWebhookSecret(deps, deps.orm.em.fork());
  let event: Stripe.Event;
  try {
    event = verifyStripeEvent(rawBody, signature ?? '', secret);
  } catch (cause) {
    throw new WebhookSignatureError(`Invalid Stripe signature: ${(cause as Error).message}`);
  }
  return receiveEvent(
    deps.orm,
    'stripe',
    { id: event.id, type: event.type, payload: event as unknown as Record<string, unknown> },
    (em) => applyStripeEvent(em, { stripe: deps.stripe }, event),
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
  let event: PolarEvent;
  try {
    event = new Webhook(Buffer.from(secret, 'utf8').toString('base64')).verify(rawBody.toString('utf8'), {
      'webhook-id': header('webhook-id'),
      'webhook-timestamp': header('webhook-timestamp'),
      'webhook-signature': header('webhook-signature'),
    }) as PolarEvent;
  } catch (cause) {
    if (cause instanceof WebhookVerificationError)
      throw new WebhookSignatureError(`Invalid Polar signature: ${cause.message}`);
    throw cause;
  }
  const receivedAt = new Date(Number(header('webhook-timestamp')) * 1000);
  return receiveEvent(
    deps.orm,
    'polar',
    { id: header('webhook-id'), type: event.type, payload: event as unknown as Record<string, unknown> },
    (em) => applyPolarEvent(em, event, receivedAt),
  );
}
