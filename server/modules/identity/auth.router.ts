// auth.*: sign-up, sign-in, sign-out, the current user and their sessions.

import type { EntityManager } from '@mikro-orm/postgresql';
import { revokeSessionInput, signInInput, signUpInput } from '../../../shared/schemas/identity.ts';
import type { ContextInner } from '../../trpc/context.ts';
import { publicProcedure, router, userProcedure } from '../../trpc/trpc.ts';
import { toMeDto } from './identity.dto.ts';
import * as identity from './identity.service.ts';
import { createAuth } from './lucia.ts';

const authFor = (ctx: ContextInner & { em: EntityManager }) =>
  createAuth(ctx.em, { secureCookie: ctx.config.sessionCookieSecure });

export const authRouter = router({
  signUp: publicProcedure.input(signUpInput).mutation(async ({ ctx, input }) => {
    const auth = authFor(ctx);
    const { user, sessionId } = await identity.signUp(ctx.em, auth, input, ctx.client);
    ctx.cookies.set(auth.createSessionCookie(sessionId).serialize());
    return toMeDto(user);
  }),

  signIn: publicProcedure.input(signInInput).mutation(async ({ ctx, input }) => {
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

  sessions: router({
    list: userProcedure.query(({ ctx }) => identity.listSessions(authFor(ctx), ctx.user.id, ctx.sessionId)),
    revoke: userProcedure.input(revokeSessionInput).mutation(async ({ ctx, input }) => {
      await identity.revokeSession(ctx.em, ctx.user.id, input.id);
      return { ok: true as const };
    }),
  }),
});
