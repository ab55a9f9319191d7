// Plain objects the credits procedures return.
import type { CreditBalance } from './credit-balance.entity.ts';
import type { CreditTransaction } from './credit-transaction.entity.ts';

export const toBalanceDto = (balance: CreditBalance) => ({
  balance: balance.balance,
  totalPurchased: balance.totalPurchased,
  totalGranted: balance.totalGranted,
  totalUsed: balance.totalUsed,
  totalRefunded: balance.totalRefunded,
  lastTransactionAt: balance.lastTransactionAt ?? null,
});
export type BalanceDto = ReturnType<typeof toBalanceDto>;

export const toTransactionDto = (row: CreditTransaction) => ({
  id: row.id,
  seq: row.seq,
  type: row.type,
  amount: row.amount,
  balanceAfter: row.balanceAfter,
  description: row.description ?? null,
  operationType: row.operationType ?? null,
  createdAt: row.createdAt as Date,
});
export type TransactionDto = ReturnType<typeof toTransactionDto>;
