// A checkout as it was offered: what is sold, for how much and how many credits, fixed when the
// user starts paying. The provider's events name it (metadata `checkoutId`), and the webhook
// credits what this row says — an admin editing the package meanwhile changes nothing for the buyer.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import {
  BILLING_INTERVALS,
  CHECKOUT_PROVIDERS,
  CHECKOUT_STATUSES,
  PAYMENT_KINDS,
} from '../../../shared/schemas/billing.ts';
import {
  createdAtProperty,
  idProperty,
  timestampColumn,
  updatedAtProperty,
} from '../../common/entity-properties.ts';
import { User } from '../identity/user.entity.ts';
import { CreditPackage } from './credit-package.entity.ts';
import { Plan } from './plan.entity.ts';

export const Checkout = defineEntity({
  name: 'Checkout',
  tableName: 'checkouts',
  properties: {
    id: idProperty(),
    user: () => p.manyToOne(User).deleteRule('cascade').index('checkouts_user_id_idx'),
    provider: p.enum(CHECKOUT_PROVIDERS),
    kind: p.enum(PAYMENT_KINDS),
    creditPackage: () =>
      p.manyToOne(CreditPackage).nullable().deleteRule('set null').index('checkouts_credit_package_id_idx'),
    plan: () => p.manyToOne(Plan).nullable().deleteRule('set null').index('checkouts_plan_id_idx'),
    interval: p.enum(BILLING_INTERVALS).nullable(),
    /** The name the buyer saw ("Builder", "Pro"). */
    itemName: p.string().length(120),
    /** Credits sold: a package's credits, or a plan's credits per month. */
    credits: p.integer(),
    amountCents: p.integer(),
    currency: p.string().length(3),
    /** The provider's session (Stripe `cs_…`, Polar checkout id). */
    externalCheckoutId: p.string().length(255).nullable(),
    status: p.enum(CHECKOUT_STATUSES).default('open'),
    expiresAt: timestampColumn(),
    completedAt: timestampColumn().nullable(),
    createdAt: createdAtProperty(),
    updatedAt: updatedAtProperty(),
  },
  uniques: [
    {
      name: 'checkouts_provider_external_checkout_id_unique',
      properties: ['provider', 'externalCheckoutId'],
    },
  ],
  checks: [{ name: 'checkouts_amounts_check', expression: 'credits >= 0 and amount_cents >= 0' }],
});
export type Checkout = InferEntity<typeof Checkout>;
