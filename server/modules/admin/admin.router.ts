// admin.*: the back office. Reads are open to moderators (moderatorProcedure); every change needs
// an administrator (adminProcedure) and is audited in its own transaction.
import {
  adjustCreditsInput,
  adminGenerationsInput,
  adminPaymentsInput,
  adminStatementInput,
  adminTransactionsInput,
  adminUserIdInput,
  adminUsersListInput,
  archiveInput,
  auditListInput,
  banInput,
  packageUpsertInput,
  planUpsertInput,
  setRoleInput,
  settingsUpdateInput,
  timeseriesInput,
} from '../../../shared/schemas/admin.ts';
import type { ContextInner } from '../../trpc/context.ts';
import { adminProcedure, moderatorProcedure, router } from '../../trpc/trpc.ts';
import { listAudit, record } from '../audit/audit.service.ts';
import { listAllPayments } from '../billing/billing.service.ts';
import type { AuthUser } from '../identity/identity.dto.ts';
import { runRetention } from '../retention/retention.service.ts';
import { getSettings, listPriceVersions } from '../settings/settings.service.ts';
import * as catalog from './admin-catalog.service.ts';
import * as records from './admin-records.service.ts';
import * as stats from './admin-stats.service.ts';
import * as users from './admin-users.service.ts';
import { systemHealth } from './system-health.service.ts';

/** Who acts, for the audit log: the admin, the API key they used (the admin CLI), and from where. */
const actorOf = (ctx: ContextInner & { user: AuthUser }) => ({
  userId: ctx.user.id,
  apiKeyId: ctx.apiKeyId,
  ip: ctx.client.ip,
  role: ctx.user.role,
});

export const adminRouter = router({
  users: router({
    list: moderatorProcedure
      .input(adminUsersListInput)
      .query(({ ctx, input }) => users.listUsers(ctx.em, input)),
    get: moderatorProcedure
      .input(adminUserIdInput)
      .query(({ ctx, input }) => users.getUser(ctx.em, input.userId)),
    setRole: adminProcedure
      .input(setRoleInput)
      .mutation(({ ctx, input }) => users.setRole(ctx.em, actorOf(ctx), input.userId, input.role)),
    ban: adminProcedure
      .input(banInput)
      .mutation(({ ctx, input }) => users.ban(ctx.em, actorOf(ctx), input.userId, input.reason)),
    unban: adminProcedure
      .input(adminUserIdInput)
      .mutation(({ ctx, input }) => users.unban(ctx.em, actorOf(ctx), input.userId)),
    deactivate: adminProcedure
      .input(adminUserIdInput)
      .mutation(({ ctx, input }) => users.deactivate(ctx.em, actorOf(ctx), input.userId)),
    delete: adminProcedure
      .input(adminUserIdInput)
      .mutation(({ ctx, input }) => users.deleteUser(ctx.em, actorOf(ctx), input.userId)),
  }),
  credits: router({
    adjust: adminProcedure
      .input(adjustCreditsInput)
      .mutation(({ ctx, input }) => users.adjustCredits(ctx.em, actorOf(ctx), input)),
    transactions: moderatorProcedure
      .input(adminTransactionsInput)
      .query(({ ctx, input }) => records.listTransactions(ctx.em, input)),
    statement: moderatorProcedure
      .input(adminStatementInput)
      .query(({ ctx, input }) => records.userStatement(ctx.em, input)),
  }),
  plans: router({
    list: moderatorProcedure.query(({ ctx }) => catalog.listPlans(ctx.em)),
    upsert: adminProcedure
      .input(planUpsertInput)
      .mutation(({ ctx, input }) => catalog.upsertPlan(ctx.em, actorOf(ctx), input)),
    archive: adminProcedure
      .input(archiveInput)
      .mutation(({ ctx, input }) => catalog.archivePlan(ctx.em, actorOf(ctx), input.id)),
  }),
  packages: router({
    list: moderatorProcedure.query(({ ctx }) => catalog.listPackages(ctx.em)),
    upsert: adminProcedure
      .input(packageUpsertInput)
      .mutation(({ ctx, input }) => catalog.upsertPackage(ctx.em, actorOf(ctx), input)),
    archive: adminProcedure
      .input(archiveInput)
      .mutation(({ ctx, input }) => catalog.archivePackage(ctx.em, actorOf(ctx), input.id)),
  }),
  payments: router({
    /** Payments with what refunds and disputes did to their credits (uncollected = already spent). */
    list: moderatorProcedure
      .input(adminPaymentsInput)
      .query(({ ctx, input }) => listAllPayments(ctx.em, input)),
  }),
  settings: router({
    get: moderatorProcedure.query(({ ctx }) => getSettings(ctx.em)),
    /** The versions of the feature costs: in force, scheduled and past, with who made each. */
    versions: moderatorProcedure.query(({ ctx }) => listPriceVersions(ctx.em)),
    update: adminProcedure
      .input(settingsUpdateInput)
      .mutation(({ ctx, input }) => catalog.updateSettings(ctx.em, actorOf(ctx), input)),
  }),
  stats: router({
    overview: moderatorProcedure.query(({ ctx }) => stats.overview(ctx.em)),
    timeseries: moderatorProcedure
      .input(timeseriesInput)
      .query(({ ctx, input }) => stats.timeseries(ctx.em, input)),
  }),
  generations: router({
    list: moderatorProcedure
      .input(adminGenerationsInput)
      .query(({ ctx, input }) => records.listGenerations(ctx.em, input)),
  }),
  audit: router({
    list: moderatorProcedure.input(auditListInput).query(({ ctx, input }) => listAudit(ctx.em, input)),
  }),
  system: router({
    health: moderatorProcedure.query(({ ctx }) => systemHealth(ctx.em)),
  }),
  retention: router({
    run: adminProcedure.mutation(async ({ ctx }) => {
      const report = await runRetention(
        { orm: ctx.orm, storage: ctx.runtime.storage },
        { retentionDays: ctx.config.generationRetentionDays },
      );
      record(ctx.em, actorOf(ctx), 'retention.run', { type: 'system' }, report);
      return report;
    }),
  }),
});
