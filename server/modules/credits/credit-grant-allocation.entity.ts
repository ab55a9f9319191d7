// Which expiring grants a debit drew from, and how much of each: written by the same statement that
// drains the grants, so a refund can give credits back to the grants they came from (same expiry;
// a part whose grant has expired or was clawed back is forfeited, not turned into permanent credits).
// A hold reserves from grants the same way (hold_id set, no transaction yet): its capture moves the
// allocation to the `usage` row, its release gives it back to the grant (or forfeits it).
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { createdAtProperty, idProperty, updatedAtProperty } from '../../common/entity-properties.ts';
import { User } from '../identity/user.entity.ts';
import { CreditGrant } from './credit-grant.entity.ts';
import { CreditHold } from './credit-hold.entity.ts';
import { CreditTransaction } from './credit-transaction.entity.ts';

export const CreditGrantAllocation = defineEntity({
  name: 'CreditGrantAllocation',
  tableName: 'credit_grant_allocations',
  properties: {
    id: idProperty(),
    user: () => p.manyToOne(User).deleteRule('cascade').index('credit_grant_allocations_user_id_idx'),
    /**
     * The debit (a `usage` row) that drew from the grant; null: reserved by a hold not captured
     * (yet), or drawn before debits were recorded.
     */
    transaction: () =>
      p
        .manyToOne(CreditTransaction)
        .nullable()
        .deleteRule('cascade')
        .index('credit_grant_allocations_transaction_id_idx'),
    /** The hold that reserved these credits (a capture then sets `transaction` too). */
    hold: () =>
      p.manyToOne(CreditHold).nullable().deleteRule('cascade').index('credit_grant_allocations_hold_id_idx'),
    grant: () =>
      p.manyToOne(CreditGrant).deleteRule('cascade').index('credit_grant_allocations_grant_id_idx'),
    amount: p.integer(),
    /** Given back to the grant by a refund of the debit, or by the release of the hold. */
    returned: p.integer().default(0),
    /** Not given back: the grant had expired or been clawed back when the debit was refunded (or the hold released). */
    forfeited: p.integer().default(0),
    createdAt: createdAtProperty(),
    updatedAt: updatedAtProperty(),
  },
  checks: [
    {
      name: 'credit_grant_allocations_amounts_check',
      expression: 'amount > 0 and returned >= 0 and forfeited >= 0 and returned + forfeited <= amount',
    },
  ],
});
export type CreditGrantAllocation = InferEntity<typeof CreditGrantAllocation>;
