// account.*: the caller's profile, deactivation and linked sign-in providers; apiKeys.*: their API keys. Session-only.
import {
  accountUpdateInput,
  apiKeyIdInput,
  createApiKeyInput,
  deactivateInput,
  oauthUnlinkInput,
  updateApiKeyInput,
} from '../../../shared/schemas/identity.ts';
import { router, sessionProcedure } from '../../trpc/trpc.ts';
import * as account from './account.service.ts';
import * as apiKeys from './api-keys.service.ts';
import { createAuth } from './lucia.ts';
import * as oauth from './oauth.service.ts';

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
  // Linking is the provider flow (GET /auth/oauth/:provider while signed in).
  oauth: router({
    list: sessionProcedure.query(({ ctx }) => oauth.listOAuthAccounts(ctx.em, ctx.user.id)),
    unlink: sessionProcedure
      .input(oauthUnlinkInput)
      .mutation(({ ctx, input }) => oauth.unlinkOAuthAccount(ctx.em, ctx.user.id, input.provider)),
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
  /** Rename a key or change its daily credit budget (maxCreditsPerDay; null removes it). */
  update: sessionProcedure
    .input(updateApiKeyInput)
    .mutation(({ ctx, input }) => apiKeys.updateApiKey(ctx.em, ctx.user.id, input)),
});
