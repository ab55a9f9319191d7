// account.*: the caller's profile and deactivation; apiKeys.*: their API keys. Session-only.
import {
  accountUpdateInput,
  apiKeyIdInput,
  createApiKeyInput,
  deactivateInput,
} from '../../../shared/schemas/identity.ts';
import { router, sessionProcedure } from '../../trpc/trpc.ts';
import * as account from './account.service.ts';
import * as apiKeys from './api-keys.service.ts';
import { createAuth } from './lucia.ts';

export const accountRouter = router({
  get: sessionProcedure.query(({ ctx }) => account.getProfile(ctx.em, ctx.user.id)),
  update: sessionProcedure
    .input(accountUpdateInput)
    .mutation(({ ctx, input }) => account.updateProfile(ctx.em, ctx.user.id, input)),
  deactivate: sessionProcedure.input(deactivateInput).mutation(async ({ ctx, input }) => {
    const auth = createAuth(ctx.em, { secureCookie: ctx.config.sessionCookieSecure });
    const result = await account.deactivate(ctx.em, auth, ctx.user.id, input.password);
    ctx.cookies.set(auth.createBlankSessionCookie().serialize());
    return result;
  }),
});

export const apiKeysRouter = router({
  list: sessionProcedure.query(({ ctx }) => apiKeys.listApiKeys(ctx.em, ctx.user.id)),
  create: sessionProcedure
    .input(createApiKeyInput)
    .mutation(({ ctx, input }) => apiKeys.createApiKey(ctx.em, ctx.user, input)),
  revoke: sessionProcedure
    .input(apiKeyIdInput)
    .mutation(({ ctx, input }) => apiKeys.revokeApiKey(ctx.em, ctx.user.id, input.id)),
});
