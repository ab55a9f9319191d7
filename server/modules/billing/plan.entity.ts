// Subscription plans (free, basic, pro, enterprise, …): what the pricing page shows and what a
// subscription grants each period. Synced from Stripe products by `db:sync-stripe` or edited by admins.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { BILLING_SOURCES, CTA_TYPES } from '../../../shared/schemas/billing.ts';
import { createdAtProperty, idProperty, updatedAtProperty } from '../../common/entity-properties.ts';

export const Plan = defineEntity({
  name: 'Plan',
  tableName: 'plans',
  properties: {
    id: idProperty(),
    key: p.string().length(40).unique('plans_key_unique'),
    name: p.string().length(120),
    description: p.text().nullable(),
    creditsPerPeriod: p.integer().default(0),
    priceMonthlyCents: p.integer().default(0),
    priceYearlyCents: p.integer().default(0),
    currency: p.string().length(3).default('usd'),
    features: p.json<string[]>().default('[]'),
    badge: p.string().length(40).nullable(),
    highlight: p.boolean().default(false),
    ctaType: p.enum(CTA_TYPES).default('checkout'),
    ctaLabel: p.string().length(60).nullable(),
    ctaUrl: p.text().nullable(),
    billingSource: p.enum(BILLING_SOURCES).default('manual'),
    externalProductId: p.string().length(255).nullable().unique('plans_external_product_id_unique'),
    externalPriceMonthlyId: p
      .string()
      .length(255)
      .nullable()
      .unique('plans_external_price_monthly_id_unique'),
    externalPriceYearlyId: p.string().length(255).nullable().unique('plans_external_price_yearly_id_unique'),
    /** Polar products selling this plan (one per interval: a Polar product has one). */
    polarProductMonthlyId: p.string().length(255).nullable().unique('plans_polar_product_monthly_id_unique'),
    polarProductYearlyId: p.string().length(255).nullable().unique('plans_polar_product_yearly_id_unique'),
    active: p.boolean().default(true),
    sortOrder: p.integer().default(0),
    createdAt: createdAtProperty(),
    updatedAt: updatedAtProperty(),
  },
  indexes: [{ name: 'plans_active_sort_order_idx', properties: ['active', 'sortOrder'] }],
  checks: [
    { name: 'plans_prices_check', expression: 'price_monthly_cents >= 0 and price_yearly_cents >= 0' },
    { name: 'plans_credits_check', expression: 'credits_per_period >= 0' },
  ],
});
export type Plan = InferEntity<typeof Plan>;
