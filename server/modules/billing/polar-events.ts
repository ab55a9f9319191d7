// Applies one verified Polar event (inside the webhook inbox's transaction). Handled:
//   order.paid                     a package purchase (payment + credits, once per order)
//   subscription.created|updated|active|canceled|uncanceled|revoked   subscription state
// Polar customers are created with external_id = our user id, which is how events find the user.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { SubscriptionStatus } from '../../../shared/schemas/billing.ts';
import * as billing from './billing.service.ts';
import { CreditPackage } from './credit-package.entity.ts';
import { Plan } from './plan.entity.ts';

export type PolarEvent = { type: string; timestamp?: string; data: Record<string, unknown> };

const str = (value: unknown) => (typeof value === 'string' && value ? value : null);
const date = (value: unknown) => (typeof value === 'string' && value ? new Date(value) : null);

function userIdOf(data: Record<string, unknown>): string | null {
  const customer = (data.customer ?? {}) as Record<string, unknown>;
  const metadata = (data.metadata ?? {}) as Record<string, unknown>;
  return str(customer.external_id) ?? str(metadata.userId);
}

const POLAR_STATUSES: Record<string, SubscriptionStatus> = {
  incomplete: 'incomplete',
  incomplete_expired: 'canceled',
  trialing: 'trialing',
  active: 'active',
  past_due: 'past_due',
  canceled: 'canceled',
  unpaid: 'unpaid',
};

export async function applyPolarEvent(em: EntityManager, event: PolarEvent, receivedAt: Date): Promise<void> {
  const data = event.data;
  if (event.type === 'order.paid') {
    const userId = userIdOf(data);
    if (!userId) throw new Error(`Polar order ${String(data.id)} names no user`);
    const productId = str(data.product_id);
    const pkg = productId ? await em.findOne(CreditPackage, { polarProductId: productId }) : null;
    if (!pkg) return; // a subscription order: credits come with the subscription's own grant
    await billing.recordPackagePurchase(em, {
      provider: 'polar',
      externalPaymentId: String(data.id),
      userId,
      amountCents: Number(data.total_amount ?? data.amount ?? pkg.priceCents),
      currency: str(data.currency) ?? pkg.currency,
      packageId: pkg.id,
      externalProductId: productId,
    });
    return;
  }
  if (event.type.startsWith('subscription.')) {
    const userId = userIdOf(data);
    if (!userId) throw new Error(`Polar subscription ${String(data.id)} names no user`);
    const productId = str(data.product_id);
    const plan = productId ? await em.findOne(Plan, { externalProductId: productId }) : null;
    const status =
      event.type === 'subscription.revoked'
        ? 'canceled'
        : (POLAR_STATUSES[String(data.status)] ?? 'incomplete');
    await billing.applySubscriptionState(em, {
      provider: 'polar',
      externalSubscriptionId: String(data.id),
      userId,
      planId: plan?.id ?? null,
      status,
      priceId: str(data.price_id),
      amountCents: typeof data.amount === 'number' ? data.amount : null,
      currency: str(data.currency),
      interval:
        data.recurring_interval === 'year' ? 'year' : data.recurring_interval === 'month' ? 'month' : null,
      intervalCount: 1,
      trialStart: date(data.trial_start),
      trialEnd: date(data.trial_end),
      currentPeriodStart: date(data.current_period_start),
      currentPeriodEnd: date(data.current_period_end),
      cancelAtPeriodEnd: data.cancel_at_period_end === true,
      canceledAt: date(data.canceled_at),
      occurredAt: date(data.modified_at) ?? date(event.timestamp) ?? receivedAt,
      eventType: event.type,
    });
  }
}
