// The Stripe SDK, configured once: the secret key, and STRIPE_API_BASE so tests and local setups
// can point it at a loopback server speaking Stripe's API.
import Stripe from 'stripe';
import type { Config } from '../../config.ts';

export type StripeClient = Stripe;

export function createStripeClient(config: Pick<Config, 'stripe'>): Stripe | null {
  if (!config.stripe.secretKey) return null;
  const base = config.stripe.apiBase ? new URL(config.stripe.apiBase) : null;
  return new Stripe(config.stripe.secretKey, {
    maxNetworkRetries: 2,
    timeout: 20_000,
    ...(base
      ? {
          host: base.hostname,
          port: base.port || (base.protocol === 'https:' ? 443 : 80),
          protocol: base.protocol.replace(':', '') as 'http' | 'https',
        }
      : {}),
  });
}

/** Verifies a Stripe webhook with the SDK (signature and timestamp tolerance) and parses it. */
export function verifyStripeEvent(rawBody: Buffer, signature: string, secret: string): Stripe.Event {
  return Stripe.webhooks.constructEvent(rawBody, signature, secret, 300);
}

export const signStripePayload = (payload: string, secret: string) =>
  Stripe.webhooks.generateTestHeaderString({ payload, secret });
