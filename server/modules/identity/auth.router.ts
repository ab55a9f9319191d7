// auth.*: sign-up, sign-in, sign-out, the current user and their sessions; email verification,
// password reset and change. Session and password management is session-only (no API keys).
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  changePasswordInput,
  requestPasswordResetInput,
  resetPasswordInput,
  revokeSessionInput,
  signInInput,
  signUpInput,
  tokenInput,
} from '../../../shared/schemas/identity.ts';
import type { ContextInner } from '../../trpc/context.ts';
import { publicProcedure, router, sessionProcedure } from '../../trpc/trpc.ts';
import { rateLimited } from '../rate-limits/rate-limited.ts';
import * as account from './account.service.ts';
import { toMeDto } from './identity.dto.ts';
import * as identity from './identity.service.ts';
import { createAuth, hashSessionId } from './lucia.ts';
import { configuredProviders } from './oauth.service.ts';

const authFor = (ctx: ContextInner & { em: EntityManager }) =>
  createAuth(ctx.em, { secureCookie: ctx.config.sessionCookieSecure });

export const authRouter = router({
  signUp: publicProcedure
    .meta(rateLimited({ name: 'signUpPerIp', by: 'ip' }))
    .input(signUpInput)
    .mutation(async ({ ctx, input }) => {
      const auth = authFor(ctx);
      const { user, sessionId } = await identity.signUp(ctx.em, auth, input, ctx.client);
      ctx.cookies.set(auth.createSessionCookie(sessionId).serialize());
      return toMeDto(user);
    }),

  signIn: publicProcedure
    .meta(
      rateLimited(
        { name: 'signInPerIp', by: 'ip' },
        { name: 'failedSignInsPerAccount', by: 'email', onlyFailures: true },
      ),
    )
    .input(signInInput)
    .mutation(async ({ ctx, input }) => {
      const auth = authFor(ctx);
      const { user, sessionId } = await identity.signIn(ctx.em, auth, input, ctx.client);
      ctx.cookies.set(auth.createSessionCookie(sessionId).serialize());
      return toMeDto(user);
    }),

  signOut: publicProcedure.mutation(async ({ ctx }) => {
    const auth = authFor(ctx);
    if (ctx.sessionId) await identity.signOut(auth, ctx.sessionId);
    ctx.cookies.set(auth.createBlankSessionCookie().serialize());
    return { ok: true as const };
  }),

  me: publicProcedure.query(({ ctx }) => (ctx.user ? toMeDto(ctx.user) : null)),

  // Which providers the sign-in page offers; the flow itself is GET /auth/oauth/:provider.
  oauth: router({
    providers: publicProcedure.query(({ ctx }) => configuredProviders(ctx.config)),
  }),

  sessions: router({
    list: sessionProcedure.query(({ ctx }) =>
      identity.listSessions(authFor(ctx), ctx.user.id, ctx.sessionId),
    ),
    revoke: sessionProcedure.input(revokeSessionInput).mutation(async ({ ctx, input }) => {
      await identity.revokeSession(ctx.em, ctx.user.id, input.id);
      return { ok: true as const };
    }),
    revokeOthers: sessionProcedure.mutation(({ ctx }) =>
      account.revokeOtherSessions(ctx.em, ctx.user.id, ctx.sessionId ? hashSessionId(ctx.sessionId) : null),
    ),
  }),

  requestEmailVerification: sessionProcedure
    .meta(rateLimited({ name: 'emailVerificationPerUser', by: 'user' }))
    .mutation(({ ctx }) => account.requestEmailVerification(ctx.em, ctx.user.id, ctx.config.publicUrl)),
  verifyEmail: publicProcedure
    .input(tokenInput)
    .mutation(({ ctx, input }) => account.verifyEmail(ctx.em, input.token)),
  requestPasswordReset: publicProcedure
    .meta(
      rateLimited({ name: 'passwordResetPerIp', by: 'ip' }, { name: 'passwordResetPerEmail', by: 'email' }),
    )
    .input(requestPasswordResetInput)
    .mutation(({ ctx, input }) => account.requestPasswordReset(ctx.em, input.email, ctx.config.publicUrl)),
  resetPassword: publicProcedure.input(resetPasswordInput).mutation(async ({ ctx, input }) => {
    const auth = authFor(ctx);
    const { sessionId } = await account.resetPassword(ctx.em, auth, input.token, input.password, ctx.client);
    ctx.cookies.set(auth.createSessionCookie(sessionId).serialize());
    return { ok: true as const };
  }),
  changePassword: sessionProcedure.input(changePasswordInput).mutation(async ({ ctx, input }) => {
    const auth = authFor(ctx);
    const { sessionId } = await account.changePassword(ctx.em, auth, ctx.user.id, input, ctx.client);
    ctx.cookies.set(auth.createSessionCookie(sessionId).serialize());
    return { ok: true as const };
  }),
});
