// credits.*: the caller's balance and ledger, and what each operation costs.
import { statementInput, transactionsInput, usageInput } from '../../../shared/schemas/credits.ts';
import { publicProcedure, router, userProcedure } from '../../trpc/trpc.ts';
import { getSettings } from '../settings/settings.service.ts';
import * as credits from './credits.service.ts';
import { statementOf } from './statement.service.ts';

export const creditsRouter = router({
  // One sql() read on every page view: no fork of its own (trpc.ts, `unitOfWork: false`).
  balance: userProcedure
    .meta({ unitOfWork: false })
    .query(({ ctx }) => credits.balanceOf(ctx.em, ctx.user.id)),
  transactions: userProcedure
    .input(transactionsInput)
    .query(({ ctx, input }) => credits.history(ctx.em, ctx.user.id, input)),
  usage: userProcedure.input(usageInput).query(({ ctx, input }) => credits.usage(ctx.em, ctx.user.id, input)),
  /** A month's statement (UTC): opening, lines by section, closing — the client downloads it as CSV. */
  statement: userProcedure
    .input(statementInput)
    .query(({ ctx, input }) => statementOf(ctx.em, ctx.user.id, input.month)),
  costs: publicProcedure.query(async ({ ctx }) => (await getSettings(ctx.em)).featureCosts),
});
