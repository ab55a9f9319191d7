// What a checkout or a plan change sells, worked out once from the catalog: the item (package or
// plan + interval), its price, currency, name and credits — fixed at this moment, whatever the
// catalog says later — and the provider ids a plan is sold under.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { BillingInterval, CheckoutProvider, PlanChange } from '../../../shared/schemas/billing.ts';
import { AppError } from '../../common/app-error.ts';
import * as billing from './billing.service.ts';
import type { CreditPackage } from './credit-package.entity.ts';
import type { Plan } from './plan.entity.ts';

export type CheckoutCommand =
  | { kind: 'package'; packageId: string }
  | { kind: 'plan'; planKey: string; interval: BillingInterval };

export type CheckoutResult = {
  /** Where to go: the provider's page, the dev checkout, or (after a plan change) the billing page. */
  url: string;
  provider: CheckoutProvider;
  /** Set when the user was on a plan: what changed instead of a purchase. */
  change: PlanChange | null;
};

export type Item =
  | {
      kind: 'package';
      pkg: CreditPackage;
      amountCents: number;
      currency: string;
      name: string;
      credits: number;
    }
  | {
      kind: 'plan';
      plan: Plan;
      interval: BillingInterval;
      amountCents: number;
      currency: string;
      name: string;
      credits: number;
    };

export async function describeItem(em: EntityManager, input: CheckoutCommand): Promise<Item> {
  if (input.kind === 'package') {
    const pkg = await billing.findPackage(em, input.packageId);
    return {
      kind: 'package',
      pkg,
      amountCents: pkg.priceCents,
      currency: pkg.currency,
      name: pkg.name,
      credits: pkg.credits,
    };
  }
  const plan = await billing.findPlanByKey(em, input.planKey);
  const amountCents = input.interval === 'year' ? plan.priceYearlyCents : plan.priceMonthlyCents;
  if (plan.ctaType !== 'checkout' || amountCents <= 0) {
    throw new AppError(
      'bad_request',
      `The ${plan.name} plan cannot be bought ${input.interval === 'year' ? 'yearly' : 'monthly'}`,
      { fieldErrors: { planKey: ['This plan is not sold through checkout'] } },
    );
  }
  return {
    kind: 'plan',
    plan,
    interval: input.interval,
    amountCents,
    currency: plan.currency,
    name: plan.name,
    credits: plan.creditsPerPeriod,
  };
}

export const stripePriceOf = (plan: Plan, interval: BillingInterval) =>
  interval === 'year' ? plan.externalPriceYearlyId : plan.externalPriceMonthlyId;
export const polarProductOf = (plan: Plan, interval: BillingInterval) =>
  interval === 'year' ? plan.polarProductYearlyId : plan.polarProductMonthlyId;
