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

// ——— Monthly statements (credits.statement, admin.credits.statement) ———

/** A calendar month in UTC, `YYYY-MM`. */
export const statementMonth = z
  .string()
  .trim()
  .regex(/^(19|20|21)\d{2}-(0[1-9]|1[0-2])$/, { error: 'Use a month as YYYY-MM' });

export const statementInput = z.object({ month: statementMonth });
export type StatementInput = z.input<typeof statementInput>;

/**
 * The sections of a statement, in the order it lists them. Every ledger type belongs to one
 * (STATEMENT_SECTION_OF_TYPE), so a statement's lines always add up to its closing balance.
 * `releases` lists the holds released in the month (generations that failed or were canceled gave
 * back the credits they held): they moved no balance and wrote no ledger row, so their lines carry
 * the credits in `released` and 0 in `amount` — information beside the sums, never part of them.
 */
export const STATEMENT_SECTIONS = [
  'grants',
  'purchases',
  'usage',
  'refunds',
  'releases',
  'clawbacks',
  'reinstatements',
  'expirations',
  'adjustments',
] as const;
export type StatementSection = (typeof STATEMENT_SECTIONS)[number];

/**
 * The section of each ledger type. Grants are listed by source (the type); usage and refunds by
 * operation. An administrator's adjustment is a grant when it adds credits and an `adjustments`
 * line when it takes them away (the sign decides; this map gives the positive case).
 */
export const STATEMENT_SECTION_OF_TYPE = {
  signup_bonus: 'grants',
  subscription_grant: 'grants',
  promo: 'grants',
  admin_adjustment: 'grants',
  purchase: 'purchases',
  usage: 'usage',
  refund: 'refunds',
  clawback: 'clawbacks',
  reinstatement: 'reinstatements',
  expiration: 'expirations',
} as const satisfies Record<CreditTransactionType, StatementSection>;

export const STATEMENT_SECTION_LABELS: Record<StatementSection, string> = {
  grants: 'Grants',
  purchases: 'Purchases',
  usage: 'Usage',
  refunds: 'Refunds',
  releases: 'Released holds',
  clawbacks: 'Clawbacks (refunded or disputed payments)',
  reinstatements: 'Reinstatements (disputes won)',
  expirations: 'Expired credits',
  adjustments: 'Adjustments',
};

const GRANT_SOURCE_LABELS: Partial<Record<CreditTransactionType, string>> = {
  signup_bonus: 'Sign-up bonus',
  subscription_grant: 'Subscription credits',
  promo: 'Promotions',
  admin_adjustment: 'Added by an administrator',
};

const OPERATION_LABELS: Record<OperationType, string> = {
  logo_generation: 'Logo generation',
  image_generation: 'Image generation',
  text_generation: 'Text generation',
  code_generation: 'Code generation',
};

/** What a statement line is called: its section, and its source or operation when it has one. */
export function statementLineLabel(section: StatementSection, key: string | null): string {
  if (section === 'grants') return GRANT_SOURCE_LABELS[key as CreditTransactionType] ?? 'Other grants';
  if (section === 'usage' || section === 'refunds' || section === 'releases') {
    const operation = OPERATION_LABELS[key as OperationType];
    return (
      operation ??
      (section === 'refunds' ? 'Other refunds' : section === 'releases' ? 'Other holds' : 'Other usage')
    );
  }
  if (section === 'adjustments') return 'Removed by an administrator';
  return STATEMENT_SECTION_LABELS[section];
}
