// Plain objects the billing procedures return (never provider payloads or external secrets).
import type { CreditPackage } from './credit-package.entity.ts';
import type { Payment } from './payment.entity.ts';
import type { Plan } from './plan.entity.ts';
import type { Subscription } from './subscription.entity.ts';

/** What the catalog shows of a plan, to buyers and admins alike. */
const planCatalogFields = (plan: Plan) => ({
  id: plan.id,
  key: plan.key,
  name: plan.name,
  description: plan.description ?? null,
  creditsPerPeriod: plan.creditsPerPeriod,
  priceMonthlyCents: plan.priceMonthlyCents,
  priceYearlyCents: plan.priceYearlyCents,
  currency: plan.currency,
  features: plan.features ?? [],
  badge: plan.badge ?? null,
  highlight: plan.highlight,
  ctaType: plan.ctaType,
  ctaLabel: plan.ctaLabel ?? null,
  ctaUrl: plan.ctaUrl ?? null,
});

export const toPlanDto = (plan: Plan) => ({
  ...planCatalogFields(plan),
  /** Whether the plan can be bought for each interval through checkout. */
  purchasable: { month: plan.priceMonthlyCents > 0, year: plan.priceYearlyCents > 0 },
});
export type PlanDto = ReturnType<typeof toPlanDto>;

/** Admins also see how a plan is sold (its provider products and prices) and whether it is listed. */
export const toAdminPlanDto = (plan: Plan) => ({
  ...planCatalogFields(plan),
  billingSource: plan.billingSource,
  externalProductId: plan.externalProductId ?? null,
  stripePriceMonthlyId: plan.externalPriceMonthlyId ?? null,
  stripePriceYearlyId: plan.externalPriceYearlyId ?? null,
  polarProductMonthlyId: plan.polarProductMonthlyId ?? null,
  polarProductYearlyId: plan.polarProductYearlyId ?? null,
  active: plan.active,
  sortOrder: plan.sortOrder,
});

export const toPackageDto = (pkg: CreditPackage) => ({
  id: pkg.id,
  name: pkg.name,
  credits: pkg.credits,
  priceCents: pkg.priceCents,
  currency: pkg.currency,
});
export type PackageDto = ReturnType<typeof toPackageDto>;

/** Admins also see a package's provider prices and whether it is listed. */
export const toAdminPackageDto = (pkg: CreditPackage) => ({
  ...toPackageDto(pkg),
  stripePriceId: pkg.stripePriceId ?? null,
  polarProductId: pkg.polarProductId ?? null,
  active: pkg.active,
  sortOrder: pkg.sortOrder,
});

export const toSubscriptionDto = (sub: Subscription) => ({
  id: sub.id,
  provider: sub.provider,
  status: sub.status,
  plan: sub.plan
    ? {
        key: sub.plan.key,
        name: sub.plan.name,
        // What this subscription was sold with (fixed at checkout), else the plan's current figure.
        creditsPerPeriod: sub.creditsPerPeriod ?? sub.plan.creditsPerPeriod,
      }
    : null,
  /** A downgrade (or interval switch) waiting for the end of the period. */
  scheduledChange:
    sub.scheduledPlan && sub.scheduledChangeAt
      ? { plan: { key: sub.scheduledPlan.key, name: sub.scheduledPlan.name }, at: sub.scheduledChangeAt }
      : null,
  amount: sub.amount ?? null,
  currency: sub.currency ?? null,
  interval: sub.interval ?? null,
  currentPeriodStart: sub.currentPeriodStart ?? null,
  currentPeriodEnd: sub.currentPeriodEnd ?? null,
  cancelAtPeriodEnd: sub.cancelAtPeriodEnd,
  canceledAt: sub.canceledAt ?? null,
  trialEnd: sub.trialEnd ?? null,
});
export type SubscriptionDto = ReturnType<typeof toSubscriptionDto>;

/** What a payment bought, as the buyer saw it: recorded with the payment, else derived. */
export const paymentDescription = (payment: Payment) =>
  payment.description ??
  payment.creditPackage?.name ??
  (payment.subscription?.plan ? `${payment.subscription.plan.name} plan` : null) ??
  (payment.kind === 'subscription' ? 'Subscription' : 'Credits');

export const toPaymentDto = (payment: Payment) => ({
  id: payment.id,
  provider: payment.provider,
  kind: payment.kind,
  amountCents: payment.amountCents,
  currency: payment.currency,
  status: payment.status,
  description: paymentDescription(payment),
  /** The provider's receipt or invoice page, when it has one. */
  receiptUrl: payment.receiptUrl ?? null,
  refundedCents: payment.refundedCents,
  createdAt: payment.createdAt as Date,
});

/** Admins also see what refunds and disputes did to the credits. */
export const toAdminPaymentDto = (payment: Payment) => ({
  ...toPaymentDto(payment),
  externalPaymentId: payment.externalPaymentId,
  user: payment.user ? { id: payment.user.id, email: payment.user.email } : null,
  creditsClawedBack: payment.creditsClawedBack,
  creditsReinstated: payment.creditsReinstated,
  /** Credits already spent when the payment was refunded or disputed: never collected. */
  creditsUncollected: payment.creditsUncollected,
});
export type PaymentDto = ReturnType<typeof toPaymentDto>;
