// Billing: plans, credit packages, subscriptions, payments, and the inputs of billing.*.
import { z } from 'zod';

export const PAYMENT_PROVIDERS = ['stripe', 'polar'] as const;
export type PaymentProvider = (typeof PAYMENT_PROVIDERS)[number];

export const BILLING_SOURCES = ['manual', 'stripe', 'polar'] as const;
export type BillingSource = (typeof BILLING_SOURCES)[number];

export const SUBSCRIPTION_STATUSES = [
  'trialing',
  'active',
  'past_due',
  'unpaid',
  'canceled',
  'incomplete',
  'paused',
] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];
/**
 * Statuses in which a subscription still gives its plan. A user has at most one subscription in
 * these (a partial unique index, `subscriptions_one_live_per_user`).
 */
export const LIVE_SUBSCRIPTION_STATUSES = [
  'trialing',
  'active',
  'past_due',
] as const satisfies SubscriptionStatus[];
export const isLiveSubscription = (status: SubscriptionStatus) =>
  (LIVE_SUBSCRIPTION_STATUSES as readonly SubscriptionStatus[]).includes(status);

export const PAYMENT_KINDS = ['credit_package', 'subscription'] as const;
export type PaymentKind = (typeof PAYMENT_KINDS)[number];

export const PAYMENT_STATUSES = [
  'pending',
  'succeeded',
  'failed',
  'refunded',
  'partially_refunded',
  /** A chargeback is open (funds withdrawn, or an inquiry). */
  'disputed',
  /** The chargeback was lost: the money is gone. */
  'dispute_lost',
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export const BILLING_INTERVALS = ['month', 'year'] as const;
export type BillingInterval = (typeof BILLING_INTERVALS)[number];

export const CTA_TYPES = ['checkout', 'contact', 'link', 'none'] as const;
export type CtaType = (typeof CTA_TYPES)[number];

/** Who takes the money for a checkout: a provider, or the local dev checkout (never in production). */
export const CHECKOUT_PROVIDERS = ['stripe', 'polar', 'dev'] as const;
export type CheckoutProvider = (typeof CHECKOUT_PROVIDERS)[number];

export const CHECKOUT_STATUSES = ['open', 'completed', 'expired'] as const;
export type CheckoutStatus = (typeof CHECKOUT_STATUSES)[number];

/** A money reversal on a payment: a refund (full or partial) or a dispute (chargeback). */
export const REVERSAL_KINDS = ['refund', 'dispute'] as const;
export type ReversalKind = (typeof REVERSAL_KINDS)[number];

export const WEBHOOK_PROVIDERS = ['stripe', 'polar'] as const;
export type WebhookProvider = (typeof WEBHOOK_PROVIDERS)[number];

export const currencyCode = z
  .string()
  .regex(/^[a-zA-Z]{3}$/, { error: 'Use a 3-letter currency code' })
  .transform((code) => code.toLowerCase());

export const planKey = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, { error: 'Lowercase letters, digits, - and _' });

export const checkoutInput = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('package'), packageId: z.uuid() }),
  z.object({ kind: z.literal('plan'), planKey, interval: z.enum(BILLING_INTERVALS).default('month') }),
]);
export type CheckoutInput = z.input<typeof checkoutInput>;

/** What billing.checkout did: a URL to pay, or (for a user on a plan) the plan change it made. */
export const PLAN_CHANGES = ['upgraded', 'downgrade_scheduled', 'change_canceled'] as const;
export type PlanChange = (typeof PLAN_CHANGES)[number];

export const paymentsInput = z.object({
  cursor: z.string().max(100).nullish(),
  limit: z.number().int().min(1).max(100).default(20),
});

// ——— Auto top-up (billing.autoTopUp.get / set) ———

/**
 * An auto top-up attempt: `pending` (triggered, waiting for its job), `processing` (the payment
 * is being made), `succeeded` (the credits landed), `failed` (declined, no card, …: shown to the
 * user; no retry until the balance is back above the threshold or the setting is saved again).
 */
export const AUTO_TOP_UP_STATUSES = ['pending', 'processing', 'succeeded', 'failed'] as const;
export type AutoTopUpStatus = (typeof AUTO_TOP_UP_STATUSES)[number];

export const AUTO_TOP_UP_THRESHOLD_MAX = 1_000_000;

/** "When my balance falls below `threshold` credits, buy `packageId`." */
export const autoTopUpInput = z.object({
  enabled: z.boolean(),
  threshold: z
    .number({ error: 'Enter a number of credits' })
    .int({ error: 'Whole credits only' })
    .min(1, { error: 'At least 1 credit' })
    .max(AUTO_TOP_UP_THRESHOLD_MAX, { error: 'At most 1,000,000 credits' }),
  packageId: z.uuid({ error: 'Pick a credit package' }),
});
export type AutoTopUpInput = z.input<typeof autoTopUpInput>;
