// Payment history: one row per provider payment (a package order, a paid invoice).
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { PAYMENT_KINDS, PAYMENT_PROVIDERS, PAYMENT_STATUSES } from '../../../shared/schemas/billing.ts';
import { createdAtProperty, idProperty, updatedAtProperty } from '../../common/entity-properties.ts';
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
  ],
});
export type Payment = InferEntity<typeof Payment>;
