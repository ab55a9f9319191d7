// One-off credit packages (seed 000's Polar products, Stripe prices): buy N credits for a price.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { createdAtProperty, idProperty, updatedAtProperty } from '../../common/entity-properties.ts';

export const CreditPackage = defineEntity({
  name: 'CreditPackage',
  tableName: 'credit_packages',
  properties: {
    id: idProperty(),
    name: p.string().length(120),
    credits: p.integer(),
    priceCents: p.integer(),
    currency: p.string().length(3).default('usd'),
    stripeProductId: p.string().length(255).nullable().unique('credit_packages_stripe_product_id_unique'),
    stripePriceId: p.string().length(255).nullable().unique('credit_packages_stripe_price_id_unique'),
    polarProductId: p.string().length(255).nullable().unique('credit_packages_polar_product_id_unique'),
    active: p.boolean().default(true),
    sortOrder: p.integer().default(0),
    metadata: p.json<Record<string, unknown>>().nullable(),
    createdAt: createdAtProperty(),
    updatedAt: updatedAtProperty(),
  },
  indexes: [{ name: 'credit_packages_active_sort_order_idx', properties: ['active', 'sortOrder'] }],
  checks: [{ name: 'credit_packages_amounts_check', expression: 'credits > 0 and price_cents >= 0' }],
});
export type CreditPackage = InferEntity<typeof CreditPackage>;
