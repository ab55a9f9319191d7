// billing.portal: the provider's customer portal for the user.
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError } from '../../common/app-error.ts';
import * as billing from './billing.service.ts';
import type { PaymentWebhookDeps } from './payment-webhooks.ts';

/** The provider's customer portal for the user: a Stripe billing-portal session, or Polar's. */
export async function openPortal(em: EntityManager, deps: PaymentWebhookDeps, userId: string) {
  const provider = await billing.portalProviderOf(
    em,
    { stripeConfigured: Boolean(deps.stripe), polarConfigured: Boolean(deps.polar) },
    userId,
  );
  const returnUrl = `${deps.config.publicUrl}/billing`;
  if (provider === 'stripe' && deps.stripe) {
    const customer = await billing.customerOf(em, userId, 'stripe');
    if (customer) {
      const session = await deps.stripe.billingPortal.sessions.create({
        customer: customer.externalCustomerId,
        return_url: returnUrl,
      });
      return { url: session.url, provider };
    }
  }
  if (provider === 'polar' && deps.polar) {
    const session = await deps.polar.createCustomerSession({
      external_customer_id: userId,
      return_url: returnUrl,
    });
    return { url: session.customer_portal_url, provider };
  }
  throw new AppError('not_found', 'You have no billing account with a payment provider yet');
}
