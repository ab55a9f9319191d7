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

/**
 * Verifies a Stripe webhook's signature with the SDK (signature and 5-minute timestamp tolerance);
 * throws when it does not hold. Parsing is the caller's: a signed body may still not be an event.
 */
export function verifyStripeSignature(rawBody: Buffer, signature: string, secret: string): void {
  const verifier = Stripe.webhooks.signature;
  if (!verifier) throw new Error('The Stripe SDK has no signature verifier');
  verifier.verifyHeader(rawBody, signature, secret, 300);
}

export const signStripePayload = (payload: string, secret: string) =>
  Stripe.webhooks.generateTestHeaderString({ payload, secret });
