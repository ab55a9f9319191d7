// The append-only credit ledger. Rows are only ever inserted, by credits.service's post(); the
// user's balance row moves in the same statement. Index names follow seed 000.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { CREDIT_TRANSACTION_TYPES, OPERATION_TYPES } from '../../../shared/schemas/credits.ts';
import { createdAtProperty, idProperty, partialIndexes } from '../../common/entity-properties.ts';
import { Payment } from '../billing/payment.entity.ts';
import { Generation } from '../generations/generation.entity.ts';
import { User } from '../identity/user.entity.ts';

export const CreditTransaction = defineEntity({
  name: 'CreditTransaction',
  tableName: 'credit_transactions',
  properties: {
    id: idProperty(),
    // Nullable so that a hard-deleted user's ledger rows survive (see README, "Deleting users").
    user: () => p.manyToOne(User).nullable().deleteRule('set null').index('credit_transactions_user_id_idx'),
    seq: p.integer(),
    type: p.enum(CREDIT_TRANSACTION_TYPES),
    amount: p.integer(),
    balanceAfter: p.integer(),
    description: p.text().nullable(),
    operationType: p.enum(OPERATION_TYPES).nullable(),
    externalOrderId: p.string().length(256).nullable(),
    externalProductId: p.string().length(256).nullable(),
    // The indexes of these nullable references skip NULLs (see `indexes`).
    performedBy: () => p.manyToOne(User).nullable().deleteRule('set null').index(false),
    generation: () =>
      p
        .manyToOne(Generation)
        .nullable()
        .deleteRule('set null')
        .index('credit_transactions_generation_id_idx'),
    payment: () => p.manyToOne(Payment).nullable().deleteRule('set null').index(false),
    idempotencyKey: p.string().length(200).nullable(),
    metadata: p.json<Record<string, unknown>>().nullable(),
    createdAt: createdAtProperty(),
  },
  indexes: [
    // Partial: only rows that have the value. Every lookup is by a value (an order id, an admin's
    // adjustments, a payment's postings, ON DELETE SET NULL), and a usage row has none of the three,
    // so a generation's ledger row skips three index entries (bench, README Performance).
    ...partialIndexes('credit_transactions', {
      credit_transactions_polar_order_id_idx: 'external_order_id',
      credit_transactions_performed_by_idx: 'performed_by_id',
      credit_transactions_payment_id_idx: 'payment_id',
    }),
    {
      name: 'credit_transactions_user_id_created_at_idx',
      expression:
        'create index "credit_transactions_user_id_created_at_idx" on "credit_transactions" ("user_id", "created_at" desc)',
    },
    { name: 'credit_transactions_type_created_at_idx', properties: ['type', 'createdAt'] },
    {
      // Spec invariant 3: a generation is refunded at most once, whatever retries or callbacks race.
      name: 'credit_transactions_generation_refund_unique',
      expression:
        'create unique index "credit_transactions_generation_refund_unique" on "credit_transactions" ("generation_id") where "type" = \'refund\'',
    },
    {
      // A generation is charged at most once: one capture of its hold (or its charge at create, before holds).
      name: 'credit_transactions_generation_usage_unique',
      expression:
        'create unique index "credit_transactions_generation_usage_unique" on "credit_transactions" ("generation_id") where "type" = \'usage\'',
    },
  ],
  uniques: [
    { name: 'credit_transactions_user_id_seq_unique', properties: ['user', 'seq'] },
    { name: 'credit_transactions_user_id_idempotency_key_unique', properties: ['user', 'idempotencyKey'] },
  ],
  checks: [{ name: 'credit_transactions_amount_check', expression: 'amount <> 0 and balance_after >= 0' }],
});
export type CreditTransaction = InferEntity<typeof CreditTransaction>;
