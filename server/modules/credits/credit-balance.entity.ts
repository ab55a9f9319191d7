// One balance row per user: the cached sum of their ledger, with running totals per kind.
// `ledger_seq` numbers the user's ledger rows, so the balance_after chain has one defined order.
// `held` is what open holds reserve (generations in flight): available = balance − held, never < 0.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import {
  createdAtProperty,
  idProperty,
  timestampColumn,
  updatedAtProperty,
} from '../../common/entity-properties.ts';
import { User } from '../identity/user.entity.ts';

export const CreditBalance = defineEntity({
  name: 'CreditBalance',
  tableName: 'credit_balances',
  properties: {
    id: idProperty(),
    user: () => p.oneToOne(User).owner().deleteRule('cascade').unique('credit_balances_user_id_unique'),
    /** The ledger's sum: what the user owns, held credits included. */
    balance: p.integer().default(0),
    /** Reserved by open holds (credit_holds): not spent, not available. */
    held: p.integer().default(0),
    totalPurchased: p.integer().default(0),
    totalGranted: p.integer().default(0),
    totalUsed: p.integer().default(0),
    totalRefunded: p.integer().default(0),
    /** Clawed back by refunds and disputes, net of reinstatements (a positive number). */
    totalClawedBack: p.integer().default(0),
    ledgerSeq: p.integer().default(0),
    lastTransactionAt: timestampColumn().nullable(),
    createdAt: createdAtProperty(),
    updatedAt: updatedAtProperty(),
  },
  checks: [
    { name: 'credit_balances_balance_check', expression: 'balance >= 0' },
    { name: 'credit_balances_held_check', expression: 'held >= 0 and held <= balance' },
  ],
});
export type CreditBalance = InferEntity<typeof CreditBalance>;
