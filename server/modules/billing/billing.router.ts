// billing.*: plans and packages (public), the caller's subscription and payments, checkout (or a
// plan change), cancel/resume, the customer portal; and the dev checkout (never in production).
import { z } from 'zod';
import { autoTopUpInput, checkoutInput, paymentsInput } from '../../../shared/schemas/billing.ts';
import type { Deps } from '../../runtime.ts';
import { publicProcedure, router, sessionProcedure, userProcedure } from '../../trpc/trpc.ts';
import * as autoTopUp from './auto-top-up.service.ts';
import * as billing from './billing.service.ts';
import { setCancelAtPeriodEnd } from './cancel-resume.ts';
import { createCheckout } from './checkout.ts';
import { completeDevCheckout, describeDevCheckout } from './dev-checkout.ts';
import { openPortal } from './portal.ts';

const devTokenInput = z.object({ token: z.string().min(10).max(2000) });

export const billingRouter = router({
  plans: publicProcedure.query(({ ctx }) => billing.listPlans(ctx.em)),
  packages: publicProcedure.query(({ ctx }) => billing.listPackages(ctx.em)),
  subscription: userProcedure.query(({ ctx }) =>
    billing.subscriptionOverview(ctx.em, portalDeps(ctx), ctx.user.id),
  ),
  payments: userProcedure
    .input(paymentsInput)
    .query(({ ctx, input }) => billing.listPayments(ctx.em, ctx.user.id, input)),
  checkout: userProcedure
    .input(checkoutInput)
    .mutation(({ ctx, input }) => createCheckout(ctx.em, paymentDeps(ctx), ctx.user, input)),
  cancelSubscription: userProcedure.mutation(({ ctx }) =>
    setCancelAtPeriodEnd(ctx.em, paymentDeps(ctx), ctx.user.id, true),
  ),
  resumeSubscription: userProcedure.mutation(({ ctx }) =>
    setCancelAtPeriodEnd(ctx.em, paymentDeps(ctx), ctx.user.id, false),
  ),
  portal: userProcedure.mutation(({ ctx }) => openPortal(ctx.em, paymentDeps(ctx), ctx.user.id)),
  autoTopUp: router({
    get: userProcedure.query(({ ctx }) => autoTopUp.getAutoTopUp(ctx.em, paymentDeps(ctx), ctx.user.id)),
    // It lets us charge the saved card unattended: a session only, never an API key.
    set: sessionProcedure
      .input(autoTopUpInput)
      .mutation(({ ctx, input }) => autoTopUp.setAutoTopUp(ctx.em, paymentDeps(ctx), ctx.user.id, input)),
  }),
  devCheckout: router({
    get: userProcedure
      .input(devTokenInput)
      .query(({ ctx, input }) => describeDevCheckout(ctx.em, ctx.user.id, input.token)),
    complete: userProcedure
      .input(devTokenInput)
      .mutation(({ ctx, input }) => completeDevCheckout(ctx.em, paymentDeps(ctx), ctx.user.id, input.token)),
  }),
});

const paymentDeps = (ctx: Deps) => ({
  orm: ctx.orm,
  config: ctx.config,
  stripe: ctx.runtime.stripe,
  polar: ctx.runtime.polar,
});
const portalDeps = (ctx: Deps) => ({
  stripeConfigured: Boolean(ctx.runtime.stripe),
  polarConfigured: Boolean(ctx.runtime.polar),
});
