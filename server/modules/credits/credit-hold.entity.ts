// Credits reserved for a generation in flight (issue 16): placed by generations.create's one
// statement, which lowers the available balance (credit_balances.held) without spending anything;
// settled exactly once — captured into one `usage` ledger row when the generation succeeds, or
// released (no ledger row) when it fails, is canceled or can no longer finish. A hold reserves from
// expiring grants first (credit_grant_allocations.hold_id), so the live grants never exceed the
// available balance.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { HOLD_STATUSES } from '../../../shared/schemas/credits.ts';
import { createdAtProperty, idProperty, timestampColumn } from '../../common/entity-properties.ts';
import { Generation } from '../generations/generation.entity.ts';
import { ApiKey } from '../identity/api-key.entity.ts';
import { User } from '../identity/user.entity.ts';
import { CreditTransaction } from './credit-transaction.entity.ts';

export const CreditHold = defineEntity({
  name: 'CreditHold',
  tableName: 'credit_holds',
  properties: {
    id: idProperty(),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    /** One hold per generation; null once the generation row is gone (the sweeper releases it). */
    generation: () =>
      p.manyToOne(Generation).nullable().deleteRule('set null').unique('credit_holds_generation_id_unique'),
    amount: p.integer(),
    status: p.enum(HOLD_STATUSES).default('open'),
    /** The API key the generation was asked through: its daily spend counts this hold. */
    apiKey: () => p.manyToOne(ApiKey).nullable().deleteRule('set null'),
    /** The `usage` ledger row a capture wrote (ledger rows are never deleted). */
    transaction: () => p.manyToOne(CreditTransaction).nullable().deleteRule('restrict'),
    createdAt: createdAtProperty(),
    settledAt: timestampColumn().nullable(),
  },
  indexes: [
    {
      name: 'credit_holds_user_id_created_at_idx',
      expression:
        'create index "credit_holds_user_id_created_at_idx" on "credit_holds" ("user_id", "created_at")',
    },
    {
      // Only holds placed through a key (a session's create writes no entry here).
      name: 'credit_holds_api_key_id_idx',
      expression:
        'create index "credit_holds_api_key_id_idx" on "credit_holds" ("api_key_id", "created_at") where "api_key_id" is not null',
    },
  ],
  checks: [
    { name: 'credit_holds_amount_check', expression: 'amount > 0' },
    {
      name: 'credit_holds_settled_check',
      expression:
        "(status = 'open') = (settled_at is null) and (status = 'captured') = (transaction_id is not null)",
    },
  ],
});
export type CreditHold = InferEntity<typeof CreditHold>;
