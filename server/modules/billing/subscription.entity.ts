// A user's subscription as the provider last told us (seed 002's fields). `provider_updated_at` is
// the timestamp of the event that wrote this state: an older event never overwrites it, a canceled
// subscription never changes again, and events of the same second are ordered by status precedence
// (see billing.service applySubscriptionState). A user has at most one live subscription.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import {
  BILLING_INTERVALS,
  PAYMENT_PROVIDERS,
  SUBSCRIPTION_STATUSES,
} from '../../../shared/schemas/billing.ts';
import {
  createdAtProperty,
  idProperty,
  timestampColumn,
  updatedAtProperty,
} from '../../common/entity-properties.ts';
import { User } from '../identity/user.entity.ts';
import { Plan } from './plan.entity.ts';

export const Subscription = defineEntity({
  name: 'Subscription',
  tableName: 'subscriptions',
  properties: {
    id: idProperty(),
    user: () => p.manyToOne(User).deleteRule('cascade').index('subscriptions_user_id_idx'),
    plan: () => p.manyToOne(Plan).nullable().deleteRule('set null').index('subscriptions_plan_id_idx'),
    provider: p.enum(PAYMENT_PROVIDERS),
    externalSubscriptionId: p.string().length(255).unique('subscriptions_external_subscription_id_unique'),
    status: p.enum(SUBSCRIPTION_STATUSES),
    priceId: p.string().length(255).nullable(),
    amount: p.decimal('string').precision(10).scale(2).nullable(),
    currency: p.string().length(3).nullable(),
    interval: p.enum(BILLING_INTERVALS).nullable(),
    intervalCount: p.integer().default(1),
    trialStart: timestampColumn().nullable(),
    trialEnd: timestampColumn().nullable(),
    currentPeriodStart: timestampColumn().nullable(),
    currentPeriodEnd: timestampColumn().nullable(),
    cancelAtPeriodEnd: p.boolean().default(false),
    canceledAt: timestampColumn().nullable(),
    providerUpdatedAt: timestampColumn(),
    /** The last tie-break between same-second events: the writing event's type rank and id. */
    providerEventKey: p.string().length(255).nullable(),
    /** Credits per month this subscription was sold with (fixed at checkout; the plan's when unknown). */
    creditsPerPeriod: p.integer().nullable(),
    /** A downgrade waiting for the end of the period: the plan it switches to, and when. */
    scheduledPlan: () =>
      p.manyToOne(Plan).nullable().deleteRule('set null').index('subscriptions_scheduled_plan_id_idx'),
    scheduledInterval: p.enum(BILLING_INTERVALS).nullable(),
    scheduledChangeAt: timestampColumn().nullable(),
    createdAt: createdAtProperty(),
    updatedAt: updatedAtProperty(),
  },
  indexes: [
    {
      // At most one live subscription per user: a plan change updates it, never adds a second.
      name: 'subscriptions_one_live_per_user',
      expression:
        'create unique index "subscriptions_one_live_per_user" on "subscriptions" ("user_id") where "status" in (\'trialing\', \'active\', \'past_due\')',
    },
  ],
  checks: [
    {
      name: 'subscriptions_credits_check',
      expression: 'credits_per_period is null or credits_per_period >= 0',
    },
  ],
});
export type Subscription = InferEntity<typeof Subscription>;
