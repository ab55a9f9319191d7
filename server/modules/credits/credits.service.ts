// The credit ledger's rules. Every change of a balance goes through post(): one SQL statement that
// moves the balance row conditionally (never below zero) and appends the ledger row carrying the
// resulting balance_after. Under READ COMMITTED the UPDATE re-checks its WHERE against the latest
// committed row, so concurrent spends can never overdraw; a repeated idempotency key violates a
// unique index, which aborts the whole statement (debit included), and we return the first result.
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  BALANCE_TOTAL_OF_TYPE,
  type CreditTransactionType,
  type OperationType,
  type TransactionsQuery,
} from '../../../shared/schemas/credits.ts';
import { AppError } from '../../common/app-error.ts';
import { uuidv7 } from '../../common/ids.ts';
import type { User } from '../identity/user.entity.ts';
import { CreditBalance } from './credit-balance.entity.ts';
import { CreditTransaction } from './credit-transaction.entity.ts';
import { toBalanceDto, toTransactionDto } from './credits.dto.ts';

export type Posting = {
  userId: string;
  type: CreditTransactionType;
  /** Signed: negative takes credits away. */
  amount: number;
  description?: string | null;
  operationType?: OperationType | null;
  externalOrderId?: string | null;
  externalProductId?: string | null;
  performedBy?: string | null;
  idempotencyKey?: string | null;
  generationId?: string | null;
  metadata?: Record<string, unknown> | null;
};

export type PostedTransaction = {
  id: string;
  seq: number;
  amount: number;
  balanceAfter: number;
  createdAt: Date;
  /** True when an earlier posting with the same idempotency key was returned instead. */
  replayed: boolean;
};

const IDEMPOTENCY_CONSTRAINT = 'credit_transactions_user_id_idempotency_key_unique';

const POST_SQL = `
with moved as (
  update credit_balances
     set balance = balance + ?,
         total_purchased = total_purchased + ?,
         total_granted = total_granted + ?,
         total_used = total_used + ?,
         total_refunded = total_refunded + ?,
         ledger_seq = ledger_seq + 1,
         last_transaction_at = now(),
         updated_at = now()
   where user_id = ? and balance + ? >= 0
   returning user_id, balance, ledger_seq)
insert into credit_transactions
  (id, user_id, seq, type, amount, balance_after, description, operation_type, external_order_id,
   external_product_id, performed_by_id, idempotency_key, generation_id, metadata, created_at)
select ?, user_id, ledger_seq, ?, ?, balance, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, now() from moved
returning id, seq, amount, balance_after, created_at`;

type PostRow = { id: string; seq: number; amount: number; balance_after: number; created_at: Date };

/** Appends one ledger row and moves the balance with it, atomically. */
export async function post(em: EntityManager, posting: Posting): Promise<PostedTransaction> {
  if (!Number.isSafeInteger(posting.amount) || posting.amount === 0) {
    throw new AppError('bad_request', 'A credit amount must be a non-zero integer');
  }
  const totals = { totalPurchased: 0, totalGranted: 0, totalUsed: 0, totalRefunded: 0 };
  const total = BALANCE_TOTAL_OF_TYPE[posting.type];
  totals[total] = total === 'totalUsed' ? -posting.amount : posting.amount;
  const params = [
    posting.amount,
    totals.totalPurchased,
    totals.totalGranted,
    totals.totalUsed,
    totals.totalRefunded,
    posting.userId,
    posting.amount,
    uuidv7(),
    posting.type,
    posting.amount,
    posting.description ?? null,
    posting.operationType ?? null,
    posting.externalOrderId ?? null,
    posting.externalProductId ?? null,
    posting.performedBy ?? null,
    posting.idempotencyKey ?? null,
    posting.generationId ?? null,
    posting.metadata ? JSON.stringify(posting.metadata) : null,
  ];

  const insert = async (tx: EntityManager) => {
    const rows = await tx.execute<PostRow[]>(POST_SQL, params);
    const row = rows[0];
    if (!row) {
      throw posting.amount < 0
        ? new AppError('insufficient_credits', 'Not enough credits for this operation')
        : new AppError('not_found', 'This account has no credit balance');
    }
    return { ...fromRow(row), replayed: false };
  };

  if (!posting.idempotencyKey) return insert(em);
  try {
    // A savepoint (or a transaction of its own): a unique violation must not poison the caller's.
    return await em.transactional(insert);
  } catch (error) {
    if (
      !(error instanceof UniqueConstraintViolationException) ||
      !String(error.message).includes(IDEMPOTENCY_CONSTRAINT)
    ) {
      throw error;
    }
    return replay(em, posting);
  }
}

async function replay(em: EntityManager, posting: Posting): Promise<PostedTransaction> {
  const earlier = await em.findOneOrFail(
    CreditTransaction,
    { user: posting.userId, idempotencyKey: posting.idempotencyKey },
    { disableIdentityMap: true },
  );
  if (earlier.type !== posting.type || earlier.amount !== posting.amount) {
    throw new AppError('conflict', 'This idempotency key was already used for a different operation');
  }
  return {
    id: earlier.id,
    seq: earlier.seq,
    amount: earlier.amount,
    balanceAfter: earlier.balanceAfter,
    createdAt: earlier.createdAt,
    replayed: true,
  };
}

const fromRow = (row: PostRow) => ({
  id: row.id,
  seq: Number(row.seq),
  amount: Number(row.amount),
  balanceAfter: Number(row.balance_after),
  createdAt: new Date(row.created_at),
});

const positive = (amount: number) => {
  if (!Number.isSafeInteger(amount) || amount <= 0) {
    throw new AppError('bad_request', 'A credit amount must be a positive integer');
  }
  return amount;
};

/** Takes credits for an operation; PAYMENT_REQUIRED (insufficient_credits) when short. */
export function spend(
  em: EntityManager,
  userId: string,
  amount: number,
  operationType: OperationType,
  links: Pick<Posting, 'description' | 'metadata' | 'generationId'> = {},
  idempotencyKey?: string | null,
): Promise<PostedTransaction> {
  return post(em, {
    userId,
    type: 'usage',
    amount: -positive(amount),
    operationType,
    idempotencyKey,
    ...links,
  });
}

export type GrantType = Exclude<CreditTransactionType, 'usage' | 'refund' | 'expiration'>;

/** Adds credits: a sign-up bonus, a purchase, a subscription grant, a promo, an admin credit. */
export function grant(
  em: EntityManager,
  userId: string,
  amount: number,
  type: GrantType,
  links: Omit<Posting, 'userId' | 'type' | 'amount'> = {},
): Promise<PostedTransaction> {
  return post(em, { ...links, userId, type, amount: positive(amount) });
}

/** Gives back credits taken by an earlier spend. */
export function refund(
  em: EntityManager,
  userId: string,
  amount: number,
  links: Omit<Posting, 'userId' | 'type' | 'amount'> = {},
): Promise<PostedTransaction> {
  return post(em, { ...links, userId, type: 'refund', amount: positive(amount) });
}

/** Creates the user's (empty) balance row; every user has exactly one. Flushed by the caller. */
export function openBalance(em: EntityManager, user: User): void {
  em.create(CreditBalance, { user });
}

export async function balanceOf(em: EntityManager, userId: string) {
  const balance = await em.findOne(CreditBalance, { user: userId });
  if (!balance) throw new AppError('not_found', 'This account has no credit balance');
  return toBalanceDto(balance);
}

/** The user's ledger, newest first, paged by the per-user sequence number. */
export async function history(em: EntityManager, userId: string, input: TransactionsQuery) {
  const rows = await em.find(
    CreditTransaction,
    {
      user: userId,
      ...(input.cursor ? { seq: { $lt: input.cursor } } : {}),
      ...(input.types?.length ? { type: { $in: input.types } } : {}),
      ...(input.from || input.to
        ? {
            createdAt: {
              ...(input.from ? { $gte: input.from } : {}),
              ...(input.to ? { $lte: input.to } : {}),
            },
          }
        : {}),
    },
    { orderBy: { seq: 'desc' }, limit: input.limit + 1 },
  );
  const page = rows.slice(0, input.limit);
  return {
    items: page.map(toTransactionDto),
    nextCursor: rows.length > input.limit ? (page.at(-1)?.seq ?? null) : null,
  };
}
