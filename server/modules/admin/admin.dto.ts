// Plain objects the admin procedures return that are not another module's DTO as is: the user's
// rows with whose they are. Plans and packages are billing's (toAdminPlanDto, toAdminPackageDto).
import type { CreditTransaction } from '../credits/credit-transaction.entity.ts';
import { toTransactionDto } from '../credits/credits.dto.ts';
import type { Generation } from '../generations/generation.entity.ts';
import { toGenerationDto } from '../generations/generations.dto.ts';

const userRef = (user: { id: string; email: string } | null | undefined) =>
  user ? { id: user.id, email: user.email } : null;

export const toAdminTransactionDto = (row: CreditTransaction) => ({
  ...toTransactionDto(row),
  user: userRef(row.user),
  performedBy: userRef(row.performedBy),
});

export const toAdminGenerationDto = (row: Generation) => ({
  ...toGenerationDto(row),
  user: userRef(row.user),
  deletedAt: row.deletedAt ?? null,
});
