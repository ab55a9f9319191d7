// Auto top-up: a user's "when my balance falls below `threshold` credits, buy this package" and
// each purchase it triggered. `armed` is false from a trigger until the balance is back at or
// above the threshold, so one crossing buys once; `checked_seq` is how far into the user's ledger
// the sweep has looked for crossings (auto-top-up.service.ts).
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { AUTO_TOP_UP_STATUSES } from '../../../shared/schemas/billing.ts';
import {
  createdAtProperty,
  idProperty,
  timestampColumn,
  updatedAtProperty,
} from '../../common/entity-properties.ts';
import { User } from '../identity/user.entity.ts';
import { Checkout } from './checkout.entity.ts';
import { CreditPackage } from './credit-package.entity.ts';

export const AutoTopUp = defineEntity({
  name: 'AutoTopUp',
  tableName: 'auto_top_ups',
  properties: {
    id: idProperty(),
    user: () => p.oneToOne(User).owner().deleteRule('cascade').unique('auto_top_ups_user_id_unique'),
    creditPackage: () =>
      p.manyToOne(CreditPackage).deleteRule('restrict').index('auto_top_ups_credit_package_id_idx'),
    threshold: p.integer(),
    enabled: p.boolean().default(true),
    armed: p.boolean().default(true),
    checkedSeq: p.integer().default(0),
    /** The card it charges, as the user saw it when saving ("Visa •••• 4242"). */
    paymentMethodLabel: p.string().length(120).nullable(),
    createdAt: createdAtProperty(),
    updatedAt: updatedAtProperty(),
  },
  checks: [{ name: 'auto_top_ups_threshold_check', expression: 'threshold > 0 and checked_seq >= 0' }],
});
export type AutoTopUp = InferEntity<typeof AutoTopUp>;

export const AutoTopUpAttempt = defineEntity({
  name: 'AutoTopUpAttempt',
  tableName: 'auto_top_up_attempts',
  properties: {
    id: idProperty(),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    /** What is sold, fixed at the trigger (null when nothing could be offered: no package, no provider). */
    checkout: () =>
      p
        .oneToOne(Checkout)
        .owner()
        .nullable()
        .deleteRule('set null')
        .unique('auto_top_up_attempts_checkout_id_unique'),
    status: p.enum(AUTO_TOP_UP_STATUSES).default('pending'),
    threshold: p.integer(),
    /** The balance the sweep saw below the threshold. */
    balance: p.integer(),
    paymentIntentId: p.string().length(255).nullable().index('auto_top_up_attempts_payment_intent_id_idx'),
    error: p.text().nullable(),
    completedAt: timestampColumn().nullable(),
    createdAt: createdAtProperty(),
    updatedAt: updatedAtProperty(),
  },
  indexes: [
    {
      name: 'auto_top_up_attempts_user_id_created_at_idx',
      expression:
        'create index "auto_top_up_attempts_user_id_created_at_idx" on "auto_top_up_attempts" ("user_id", "created_at" desc)',
    },
    {
      // One top-up in flight per user: a crossing while one is being paid buys nothing more.
      name: 'auto_top_up_attempts_one_open_per_user',
      expression:
        'create unique index "auto_top_up_attempts_one_open_per_user" on "auto_top_up_attempts" ("user_id") where "status" in (\'pending\', \'processing\')',
    },
  ],
});
export type AutoTopUpAttempt = InferEntity<typeof AutoTopUpAttempt>;
