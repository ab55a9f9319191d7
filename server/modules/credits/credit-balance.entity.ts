// One balance row per user: the cached sum of their ledger, with running totals per kind.
// `ledger_seq` numbers the user's ledger rows, so the balance_after chain has one defined order.
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
    balance: p.integer().default(0),
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
  checks: [{ name: 'credit_balances_balance_check', expression: 'balance >= 0' }],
});
export type CreditBalance = InferEntity<typeof CreditBalance>;
