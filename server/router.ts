// The router tree: the only file that knows every module. Its type is the API contract.
// Every procedure's validation speaks plain words (the shared zod messages, installed here once).
import '../shared/validation-messages.ts';
import { adminRouter } from './modules/admin/admin.router.ts';
import { billingRouter } from './modules/billing/billing.router.ts';
import { creditsRouter } from './modules/credits/credits.router.ts';
import { generationsRouter } from './modules/generations/generations.router.ts';
import { accountRouter, apiKeysRouter } from './modules/identity/account.router.ts';
import { authRouter } from './modules/identity/auth.router.ts';
import { orgsRouter } from './modules/orgs/orgs.router.ts';
import { projectsRouter } from './modules/projects/projects.router.ts';
import { storageRouter } from './modules/storage/storage.router.ts';
import { publicProcedure, router } from './trpc/trpc.ts';

export const appRouter = router({
  health: publicProcedure.query(() => ({ ok: true as const, time: new Date() })),
  auth: authRouter,
  account: accountRouter,
  apiKeys: apiKeysRouter,
  credits: creditsRouter,
  billing: billingRouter,
  generations: generationsRouter,
  storage: storageRouter,
  orgs: orgsRouter,
  projects: projectsRouter,
  admin: adminRouter,
});

export type AppRouter = typeof appRouter;
