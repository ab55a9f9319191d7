// Cross-user reads for the admin area: the ledger and generations of everyone, newest first (from a
// read replica when one is configured).
import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import type {
  adminGenerationsInput,
  adminStatementInput,
  adminTransactionsInput,
} from '../../../shared/schemas/admin.ts';
import { AppError } from '../../common/app-error.ts';
import { decodeCursor, newestFirstAfter, toPage } from '../../common/pagination.ts';
import { ON_REPLICA } from '../../db/read-replica.ts';
import { CreditTransaction } from '../credits/credit-transaction.entity.ts';
import { statementOf } from '../credits/statement.service.ts';
import { Generation } from '../generations/generation.entity.ts';
import { User } from '../identity/user.entity.ts';
import { toAdminGenerationDto, toAdminTransactionDto } from './admin.dto.ts';

export async function listTransactions(em: EntityManager, input: z.output<typeof adminTransactionsInput>) {
  const rows = await em.find(
    CreditTransaction,
    {
      ...(input.userId ? { user: input.userId } : {}),
      ...(input.types?.length ? { type: { $in: input.types } } : {}),
      ...newestFirstAfter(decodeCursor(input.cursor)),
    },
    {
      populate: ['user', 'performedBy'],
      orderBy: { createdAt: 'desc', id: 'desc' },
      limit: input.limit + 1,
      ...ON_REPLICA,
    },
  );
  return toPage(rows, input.limit, toAdminTransactionDto);
}

export async function listGenerations(em: EntityManager, input: z.output<typeof adminGenerationsInput>) {
  const rows = await em.find(
    Generation,
    {
      ...(input.userId ? { user: input.userId } : {}),
      ...(input.status?.length ? { status: { $in: input.status } } : {}),
      ...(input.kind?.length ? { kind: { $in: input.kind } } : {}),
      ...newestFirstAfter(decodeCursor(input.cursor)),
    },
    { populate: ['user'], orderBy: { createdAt: 'desc', id: 'desc' }, limit: input.limit + 1, ...ON_REPLICA },
  );
  return toPage(rows, input.limit, toAdminGenerationDto);
}

/**
 * Any user's monthly statement, as the user sees it (with their email). A read like the others
 * here: open to moderators, not audited.
 */
export async function userStatement(em: EntityManager, input: z.output<typeof adminStatementInput>) {
  const user = await em.findOne(User, { id: input.userId }, { fields: ['id', 'email'] });
  if (!user) throw new AppError('not_found', 'No such user');
  return { ...(await statementOf(em, user.id, input.month)), email: user.email };
}
