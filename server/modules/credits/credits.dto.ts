// Plain objects the credits procedures return.
import type { CreditTransaction } from './credit-transaction.entity.ts';

/** A user's balance and running totals (read by a plain select in credits.service's balanceOf). */
export type BalanceDto = {
  /** The total the user owns: the ledger's sum, held credits included. */
  balance: number;
  /** Reserved by generations in flight (open holds): not spent yet, not available. */
  held: number;
  /** What a new generation can use: balance − held. */
  available: number;
  totalPurchased: number;
  totalGranted: number;
  totalUsed: number;
  totalRefunded: number;
  /** Taken back by refunds and disputes of payments, net of reinstatements. */
  totalClawedBack: number;
  lastTransactionAt: Date | null;
};

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
