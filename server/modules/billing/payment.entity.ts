// Payment history: one row per provider payment (a package order, a paid invoice): what was bought,
// the receipt, and what refunds and disputes did to it (money refunded; credits clawed back,
// reinstated, or — already spent — left uncollected).
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { PAYMENT_KINDS, PAYMENT_PROVIDERS, PAYMENT_STATUSES } from '../../../shared/schemas/billing.ts';
import {
  createdAtProperty,
  idProperty,
  timestampColumn,
  updatedAtProperty,
} from '../../common/entity-properties.ts';
import { User } from '../identity/user.entity.ts';
import { CreditPackage } from './credit-package.entity.ts';
import { Subscription } from './subscription.entity.ts';

export const Payment = defineEntity({
  name: 'Payment',
  tableName: 'payments',
  properties: {
    id: idProperty(),
    user: () => p.manyToOne(User).nullable().deleteRule('set null'),
    provider: p.enum(PAYMENT_PROVIDERS),
    externalPaymentId: p.string().length(255),
    kind: p.enum(PAYMENT_KINDS),
    amountCents: p.integer(),
    currency: p.string().length(3),
    status: p.enum(PAYMENT_STATUSES),
    creditPackage: () =>
      p.manyToOne(CreditPackage).nullable().deleteRule('set null').index('payments_credit_package_id_idx'),
    subscription: () =>
      p.manyToOne(Subscription).nullable().deleteRule('set null').index('payments_subscription_id_idx'),
    /** What was bought, as the buyer saw it ("Builder — 500 credits", "Pro plan, monthly"). */
    description: p.text().nullable(),
    /** The provider's receipt or hosted invoice page. */
    receiptUrl: p.text().nullable(),
    /** Provider references refunds and disputes point at (Stripe payment intent and charge). */
    paymentIntentId: p.string().length(255).nullable().index('payments_payment_intent_id_idx'),
    chargeId: p.string().length(255).nullable().index('payments_charge_id_idx'),
    /** The period a subscription invoice paid for (yearly plans grant monthly within it). */
    periodStart: timestampColumn().nullable(),
    periodEnd: timestampColumn().nullable(),
    refundedCents: p.integer().default(0),
    creditsClawedBack: p.integer().default(0),
    creditsReinstated: p.integer().default(0),
    /** Credits of this payment that were spent before its refund or dispute: never collected. */
    creditsUncollected: p.integer().default(0),
    createdAt: createdAtProperty(),
    updatedAt: updatedAtProperty(),
  },
  uniques: [
    { name: 'payments_provider_external_payment_id_unique', properties: ['provider', 'externalPaymentId'] },
  ],
  indexes: [
    {
      name: 'payments_user_id_created_at_idx',
      expression:
        'create index "payments_user_id_created_at_idx" on "payments" ("user_id", "created_at" desc, "id" desc)',
    },
    {
      name: 'payments_uncollected_idx',
      expression:
        'create index "payments_uncollected_idx" on "payments" ("created_at" desc, "id" desc) where credits_uncollected > 0',
    },
  ],
  checks: [
    {
      name: 'payments_reversals_check',
      expression:
        'refunded_cents >= 0 and credits_clawed_back >= 0 and credits_reinstated >= 0 and credits_uncollected >= 0',
    },
  ],
});
export type Payment = InferEntity<typeof Payment>;
