// Admin: inputs of the admin.* procedures, shared by the admin pages' forms.
import { z } from 'zod';
import type { DEFAULT_FEATURE_COSTS } from '../defaults.ts';
import { BILLING_SOURCES, CTA_TYPES, currencyCode, planKey } from './billing.ts';
import { CREDIT_TRANSACTION_TYPES, OPERATION_TYPES, statementMonth } from './credits.ts';
import { GENERATION_KINDS, GENERATION_STATUSES } from './generations.ts';
import { USER_ROLES, USER_STATUSES } from './identity.ts';

export const AUDIT_ACTIONS = [
  'user.role_set',
  'user.banned',
  'user.unbanned',
  'user.deactivated',
  'user.deleted',
  'credits.adjusted',
  'credits.purchased',
  'credits.subscription_granted',
  'credits.signup_bonus',
  'credits.expired',
  'credits.clawed_back',
  'credits.reinstated',
  'credits.upgrade_granted',
  'billing.duplicate_subscription',
  'billing.auto_top_up_triggered',
  'billing.auto_top_up_failed',
  'plan.upserted',
  'plan.archived',
  'package.upserted',
  'package.archived',
  'settings.updated',
  /** A new version of the feature costs (admin.settings.update): what new generations are priced at. */
  'feature_costs.versioned',
  'retention.run',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

const id = z.uuid();
export const adminUserIdInput = z.object({ userId: id });

export const adminUsersListInput = z.object({
  search: z.string().trim().max(200).optional(),
  role: z.enum(USER_ROLES).optional(),
  status: z.enum(USER_STATUSES).optional(),
  page: z.number().int().min(1).max(100_000).default(1),
  pageSize: z.number().int().min(1).max(100).default(25),
  sort: z.enum(['created_desc', 'created_asc', 'email_asc']).default('created_desc'),
});
export type AdminUsersListInput = z.input<typeof adminUsersListInput>;

export const setRoleInput = z.object({ userId: id, role: z.enum(USER_ROLES) });
export const banInput = z.object({
  userId: id,
  reason: z.string().trim().min(3, { error: 'Say why' }).max(500),
});

export const adjustCreditsInput = z.object({
  userId: id,
  amount: z
    .number()
    .int({ error: 'Whole credits only' })
    .refine((value) => value !== 0, { error: 'Use a non-zero amount' })
    .refine((value) => Math.abs(value) <= 1_000_000, { error: 'At most 1,000,000 at once' }),
  reason: z.string().trim().min(3, { error: 'Give a reason (it is audited)' }).max(500),
});
export type AdjustCreditsInput = z.input<typeof adjustCreditsInput>;

export const adminTransactionsInput = z.object({
  userId: id.optional(),
  types: z.array(z.enum(CREDIT_TRANSACTION_TYPES)).max(CREDIT_TRANSACTION_TYPES.length).optional(),
  cursor: z.string().max(100).nullish(),
  limit: z.number().int().min(1).max(100).default(50),
});

/** admin.credits.statement: any user's monthly statement. */
export const adminStatementInput = z.object({ userId: id, month: statementMonth });

/** A provider's id (price_…, a Polar product UUID); blank means none. */
const externalId = z
  .string()
  .trim()
  .max(255)
  .nullish()
  .transform((value) => value || null);

export const planUpsertInput = z.object({
  id: id.optional(),
  key: planKey,
  name: z.string().trim().min(1).max(120),
  description: z.string().trim().max(2000).nullish(),
  creditsPerPeriod: z.number().int().min(0).max(10_000_000),
  priceMonthlyCents: z.number().int().min(0).max(100_000_000),
  priceYearlyCents: z.number().int().min(0).max(1_000_000_000),
  currency: currencyCode.default('usd'),
  features: z.array(z.string().trim().min(1).max(200)).max(30).default([]),
  badge: z.string().trim().max(40).nullish(),
  highlight: z.boolean().default(false),
  ctaType: z.enum(CTA_TYPES).default('checkout'),
  ctaLabel: z.string().trim().max(60).nullish(),
  ctaUrl: z.url().nullish(),
  billingSource: z.enum(BILLING_SOURCES).default('manual'),
  /** Stripe prices of the plan (`price_…`); empty = checkout prices it from the amounts above. */
  stripePriceMonthlyId: externalId,
  stripePriceYearlyId: externalId,
  /** Polar products selling the plan monthly and yearly (a Polar product has one interval). */
  polarProductMonthlyId: externalId,
  polarProductYearlyId: externalId,
  sortOrder: z.number().int().min(-1000).max(1000).default(0),
});
export type PlanUpsertInput = z.input<typeof planUpsertInput>;

export const packageUpsertInput = z.object({
  id: id.optional(),
  name: z.string().trim().min(1).max(120),
  credits: z.number().int().min(1).max(10_000_000),
  priceCents: z.number().int().min(0).max(100_000_000),
  currency: currencyCode.default('usd'),
  stripePriceId: z.string().trim().max(255).nullish(),
  polarProductId: z.string().trim().max(255).nullish(),
  sortOrder: z.number().int().min(-1000).max(1000).default(0),
});
export type PackageUpsertInput = z.input<typeof packageUpsertInput>;

export const archiveInput = z.object({ id });

/** admin.payments.list: payments of everyone (or one user), newest first; `uncollected` keeps
 * only those whose refund or dispute left credits that were already spent. */
export const adminPaymentsInput = z.object({
  userId: id.optional(),
  uncollected: z.boolean().optional(),
  cursor: z.string().max(100).nullish(),
  limit: z.number().int().min(1).max(100).default(50),
});

export const settingsUpdateInput = z.object({
  featureCosts: z
    .object(
      Object.fromEntries(OPERATION_TYPES.map((op) => [op, z.number().int().min(0).max(100_000)])) as Record<
        keyof typeof DEFAULT_FEATURE_COSTS,
        z.ZodNumber
      >,
    )
    .strict()
    .partial()
    .optional(),
  signupBonus: z.number().int().min(0).max(1_000_000).optional(),
  /**
   * When new feature costs take effect (a new price version): now when left out, or a moment in
   * the next year. Generations priced before it keep the price they were created with.
   */
  effectiveFrom: z.date().optional(),
});
export type SettingsUpdateInput = z.input<typeof settingsUpdateInput>;

export const timeseriesInput = z
  .object({ from: z.date(), to: z.date() })
  .refine((range) => range.from <= range.to, { error: '"from" must be before "to"', path: ['to'] })
  .refine((range) => range.to.getTime() - range.from.getTime() <= 366 * 86_400_000, {
    error: 'At most a year at a time',
    path: ['from'],
  });

export const adminGenerationsInput = z.object({
  userId: id.optional(),
  status: z.array(z.enum(GENERATION_STATUSES)).max(GENERATION_STATUSES.length).optional(),
  kind: z.array(z.enum(GENERATION_KINDS)).max(GENERATION_KINDS.length).optional(),
  cursor: z.string().max(100).nullish(),
  limit: z.number().int().min(1).max(100).default(50),
});

export const auditListInput = z.object({
  action: z.enum(AUDIT_ACTIONS).optional(),
  actorId: id.optional(),
  targetType: z.string().max(40).optional(),
  targetId: z.string().max(100).optional(),
  cursor: z.string().max(100).nullish(),
  limit: z.number().int().min(1).max(100).default(50),
});
