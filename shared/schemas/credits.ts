// Credits: ledger enumerations and the inputs of the credits procedures.
import { z } from 'zod';

export const CREDIT_TRANSACTION_TYPES = [
  'signup_bonus',
  'purchase',
  'subscription_grant',
  'usage',
  'refund',
  'admin_adjustment',
  'expiration',
  'promo',
  /** Unspent credits of a refunded or disputed payment, taken back. */
  'clawback',
  /** A won dispute gives back exactly what its clawback took. */
  'reinstatement',
] as const;
export type CreditTransactionType = (typeof CREDIT_TRANSACTION_TYPES)[number];

export const OPERATION_TYPES = [
  'logo_generation',
  'image_generation',
  'text_generation',
  'code_generation',
] as const;
export type OperationType = (typeof OPERATION_TYPES)[number];

/**
 * Which running total on CreditBalance each ledger type feeds. The invariant checked by tests and
 * db:verify: balance = total_purchased + total_granted - total_used + total_refunded
 * - total_clawed_back, and each total equals the signed sum of its types' ledger amounts
 * (total_used is the negated sum of `usage`; total_clawed_back the negated sum of `clawback` and
 * `reinstatement`, i.e. what clawbacks took net of what won disputes gave back).
 */
export const BALANCE_TOTAL_OF_TYPE = {
  purchase: 'totalPurchased',
  signup_bonus: 'totalGranted',
  subscription_grant: 'totalGranted',
  promo: 'totalGranted',
  admin_adjustment: 'totalGranted',
  expiration: 'totalGranted',
  usage: 'totalUsed',
  refund: 'totalRefunded',
  clawback: 'totalClawedBack',
  reinstatement: 'totalClawedBack',
} as const satisfies Record<CreditTransactionType, BalanceTotal>;

export type BalanceTotal =
  | 'totalPurchased'
  | 'totalGranted'
  | 'totalUsed'
  | 'totalRefunded'
  | 'totalClawedBack';
/** Totals kept as positive numbers for ledger amounts that are negative (a debit raises them). */
export const NEGATED_TOTALS: readonly BalanceTotal[] = ['totalUsed', 'totalClawedBack'];

/**
 * A hold reserves credits for a generation in flight: `open` (the available balance is lowered,
 * nothing is spent), then exactly once `captured` (the generation succeeded: one `usage` ledger row)
 * or `released` (it failed, was canceled, or can no longer finish: the credits are available again).
 */
export const HOLD_STATUSES = ['open', 'captured', 'released'] as const;
export type HoldStatus = (typeof HOLD_STATUSES)[number];

export const PAGE_SIZE_MAX = 100;

export const transactionsInput = z
  .object({
    /** The `seq` of the last row of the previous page. */
    cursor: z.number().int().min(1).nullish(),
    limit: z.number().int().min(1).max(PAGE_SIZE_MAX).default(20),
    types: z.array(z.enum(CREDIT_TRANSACTION_TYPES)).max(CREDIT_TRANSACTION_TYPES.length).optional(),
    from: z.date().optional(),
    to: z.date().optional(),
  })
  .refine((input) => !input.from || !input.to || input.from <= input.to, {
    error: '"from" must be before "to"',
    path: ['to'],
  });
export type TransactionsInput = z.input<typeof transactionsInput>;
export type TransactionsQuery = z.output<typeof transactionsInput>;

/** credits.usage: spending over the last `days` days, per operation type and per (UTC) day. */
export const usageInput = z
  .object({ days: z.number().int().min(1).max(366).default(30) })
  .default({ days: 30 });
