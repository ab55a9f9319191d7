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
/** Statuses in which a subscription still gives its plan. */
export const LIVE_SUBSCRIPTION_STATUSES = [
  'trialing',
  'active',
  'past_due',
] as const satisfies SubscriptionStatus[];

export const PAYMENT_KINDS = ['credit_package', 'subscription'] as const;
export type PaymentKind = (typeof PAYMENT_KINDS)[number];

export const PAYMENT_STATUSES = ['pending', 'succeeded', 'failed', 'refunded'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export const BILLING_INTERVALS = ['month', 'year'] as const;
export type BillingInterval = (typeof BILLING_INTERVALS)[number];

export const CTA_TYPES = ['checkout', 'contact', 'link', 'none'] as const;
export type CtaType = (typeof CTA_TYPES)[number];

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

export const paymentsInput = z.object({
  cursor: z.string().max(100).nullish(),
  limit: z.number().int().min(1).max(100).default(20),
});
