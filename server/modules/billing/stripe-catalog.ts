// Stripe products and prices → plans and credit packages. Used by `db:sync-stripe` (which pulls
// every product and price through the SDK) and by product.* / price.* webhooks.
//
// Convention on the Stripe product's metadata:
//   forgeline_kind = "plan"    → plan_key (required), credits_per_period, badge, highlight ("true"),
//                                 features (comma-separated); recurring prices set monthly/yearly
//   forgeline_kind = "package" → credits (required); its one-time price sets the package price
import type { EntityManager } from '@mikro-orm/postgresql';
import type Stripe from 'stripe';
import { CreditPackage } from './credit-package.entity.ts';
import { Plan } from './plan.entity.ts';

export type CatalogReport = { plans: number; packages: number; skipped: string[] };

const int = (value: string | undefined, fallback = 0) => {
  const parsed = Number.parseInt(value ?? '', 10);
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : fallback;
};

export async function syncProduct(
  em: EntityManager,
  product: Stripe.Product,
  prices: Stripe.Price[],
): Promise<'plan' | 'package' | null> {
  const kind = product.metadata?.forgeline_kind;
  const active = product.active;
  const livePrices = prices.filter(
    (price) =>
      price.active && (typeof price.product === 'string' ? price.product : price.product?.id) === product.id,
  );
  if (kind === 'plan' && product.metadata.plan_key) {
    const monthly = livePrices.find((price) => price.recurring?.interval === 'month');
    const yearly = livePrices.find((price) => price.recurring?.interval === 'year');
    const plan =
      (await em.findOne(Plan, { externalProductId: product.id })) ??
      (await em.findOne(Plan, { key: product.metadata.plan_key })) ??
      em.create(Plan, { key: product.metadata.plan_key, name: product.name });
    plan.name = product.name;
    plan.description = product.description ?? null;
    plan.creditsPerPeriod = int(product.metadata.credits_per_period, plan.creditsPerPeriod ?? 0);
    plan.badge = product.metadata.badge || null;
    plan.highlight = product.metadata.highlight === 'true';
    if (product.metadata.features)
      plan.features = product.metadata.features
        .split(',')
        .map((f) => f.trim())
        .filter(Boolean);
    plan.billingSource = 'stripe';
    plan.externalProductId = product.id;
    plan.externalPriceMonthlyId = monthly?.id ?? null;
    plan.externalPriceYearlyId = yearly?.id ?? null;
    plan.priceMonthlyCents = monthly?.unit_amount ?? 0;
    plan.priceYearlyCents = yearly?.unit_amount ?? 0;
    plan.currency = (monthly ?? yearly)?.currency ?? plan.currency ?? 'usd';
    plan.active = active;
    return 'plan';
  }
  if (kind === 'package' && int(product.metadata.credits) > 0) {
    const price = livePrices.find((candidate) => !candidate.recurring);
    const pkg =
      (await em.findOne(CreditPackage, { stripeProductId: product.id })) ??
      em.create(CreditPackage, { name: product.name, credits: int(product.metadata.credits), priceCents: 0 });
    pkg.name = product.name;
    pkg.credits = int(product.metadata.credits);
    pkg.stripeProductId = product.id;
    pkg.stripePriceId = price?.id ?? null;
    pkg.priceCents = price?.unit_amount ?? 0;
    pkg.currency = price?.currency ?? 'usd';
    pkg.active = active && Boolean(price);
    return 'package';
  }
  return null;
}

/** `db:sync-stripe`: every product and price, paged through the SDK. */
export async function syncStripeCatalog(em: EntityManager, stripe: Stripe): Promise<CatalogReport> {
  const products: Stripe.Product[] = [];
  for await (const product of stripe.products.list({ limit: 100 })) products.push(product);
  const prices: Stripe.Price[] = [];
  for await (const price of stripe.prices.list({ limit: 100 })) prices.push(price);
  const report: CatalogReport = { plans: 0, packages: 0, skipped: [] };
  for (const product of products) {
    const result = await syncProduct(em, product, prices);
    if (result === 'plan') report.plans++;
    else if (result === 'package') report.packages++;
    else report.skipped.push(product.id);
  }
  await em.flush();
  return report;
}
