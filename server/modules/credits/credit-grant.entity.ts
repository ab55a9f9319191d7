// Credits that expire (seed 001's tokens_expires_at): a subscription grant, a promo. Debits consume
// the soonest-expiring grant first; the expiry job writes an `expiration` row for what is left.
// Invariant: the live grants' remaining never exceeds the balance (debits drain grants first).
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import {
  createdAtProperty,
  idProperty,
  timestampColumn,
  updatedAtProperty,
} from '../../common/entity-properties.ts';
import { User } from '../identity/user.entity.ts';
import { CreditTransaction } from './credit-transaction.entity.ts';

export const CreditGrant = defineEntity({
  name: 'CreditGrant',
  tableName: 'credit_grants',
  properties: {
    id: idProperty(),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    sourceTransaction: () =>
      p
        .manyToOne(CreditTransaction)
        .deleteRule('cascade')
        .unique('credit_grants_source_transaction_id_unique'),
    amount: p.integer(),
    remaining: p.integer(),
    expiresAt: timestampColumn(),
    expiredAt: timestampColumn().nullable(),
    /** Clawed back (its payment was refunded or disputed): nothing is returned to it any more. */
    revokedAt: timestampColumn().nullable(),
    createdAt: createdAtProperty(),
    updatedAt: updatedAtProperty(),
  },
  indexes: [
    {
      name: 'credit_grants_live_idx',
      expression: 'create index "credit_grants_live_idx" on "credit_grants" ("user_id", "expires_at", "id")',
    },
    {
      name: 'credit_grants_expiring_idx',
      expression:
        'create index "credit_grants_expiring_idx" on "credit_grants" ("expires_at") where remaining > 0',
    },
  ],
  checks: [{ name: 'credit_grants_remaining_check', expression: 'remaining >= 0 and remaining <= amount' }],
});
export type CreditGrant = InferEntity<typeof CreditGrant>;
