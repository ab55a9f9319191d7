// initTRPC and the procedure builders every module uses:
//   publicProcedure  — anyone; userProcedure — a signed-in caller; adminProcedure — admin roles.
// Every procedure call gets its own EntityManager fork (a batch runs its calls concurrently on one
// context, so forks are per call, not per request). Every mutation runs in one transaction: the
// procedure's rows, ledger entries, queued jobs and audit entries commit together or not at all.
import type { EntityManager } from '@mikro-orm/postgresql';
import { getTRPCErrorFromUnknown, initTRPC, TRPCError } from '@trpc/server';
import superjson from 'superjson';
import { z } from 'zod';
import { ADMIN_ROLES, type ApiKeyScope, MODERATOR_ROLES } from '../../shared/schemas/identity.ts';
import type { MembershipRole } from '../../shared/schemas/orgs.ts';
import type { AuthUser } from '../modules/identity/identity.dto.ts';
import { recordProcedure } from '../modules/metrics/metrics.ts';
import { requireMembership } from '../modules/orgs/memberships.service.ts';
import { createRateLimiter, type RateLimitUse } from '../modules/rate-limits/rate-limits.service.ts';
import type { ContextInner } from './context.ts';
import { errorData, publicMessage, toTRPCError } from './errors.ts';

/**
 * Per-procedure facts the middlewares read. `scope`: an API-key scope that allows this mutation
 * besides `write`; `sessionOnly`: refused to API keys (managing keys, passwords, the account);
 * `rateLimits`: the limits a call counts against (see rate-limits.service.ts).
 */
export type ProcedureMeta = { scope?: ApiKeyScope; sessionOnly?: boolean; rateLimits?: RateLimitUse[] };

const t = initTRPC
  .context<ContextInner>()
  .meta<ProcedureMeta>()
  .create({
    transformer: superjson,
    sse: { ping: { enabled: true, intervalMs: 15_000 }, client: { reconnectAfterInactivityMs: 20_000 } },
    errorFormatter({ shape, error, ctx }) {
      return {
        ...shape,
        message: publicMessage(error),
        data: {
          code: shape.data.code,
          httpStatus: shape.data.httpStatus,
          path: shape.data.path,
          ...errorData(error, ctx?.requestId ?? null),
        },
      };
    },
  });

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const middleware = t.middleware;

type ProcedureType = 'query' | 'mutation' | 'subscription';

/** Cookie-authenticated mutations must carry `x-csrf-protection: 1` (a cross-site form cannot). */
function checkCsrf(ctx: ContextInner, type: ProcedureType) {
  if (type === 'mutation' && ctx.authMethod === 'cookie' && !ctx.csrfHeader) {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'Missing the x-csrf-protection header' });
  }
}

/**
 * API-key callers get only what their scopes allow: `read` for queries and subscriptions, `write`
 * (or the procedure's own scope) for mutations, `admin` for anything under admin.*; never the
 * session-only procedures.
 */
function checkApiKeyScopes(
  ctx: ContextInner,
  type: ProcedureType,
  path: string,
  meta: ProcedureMeta | undefined,
) {
  if (ctx.authMethod !== 'bearer') return;
  const scopes = new Set(ctx.scopes);
  const deny = (message: string) => {
    throw new TRPCError({ code: 'FORBIDDEN', message });
  };
  if (meta?.sessionOnly) deny('Sign in with a session for this; API keys cannot do it');
  if (path.startsWith('admin.')) {
    if (!scopes.has('admin')) deny('This API key lacks the admin scope');
  } else if (type === 'mutation') {
    if (!scopes.has('write') && !(meta?.scope && scopes.has(meta.scope))) {
      deny(`This API key lacks the ${meta?.scope ? `${meta.scope} or write` : 'write'} scope`);
    }
  } else if (!scopes.has('read') && !scopes.has('write') && !scopes.has('admin')) {
    deny('This API key lacks the read scope');
  }
}

/**
 * Counts the call against the limits its meta declares, before its transaction opens; past a limit
 * the call is refused (TOO_MANY_REQUESTS) and runs nothing. `onlyFailures` limits give their slot
 * back when the call succeeds (failed sign-ins are limited, successful ones are not).
 */
async function withRateLimits<R extends { ok: boolean }>(
  ctx: ContextInner,
  limits: RateLimitUse[],
  getRawInput: () => Promise<unknown>,
  run: () => Promise<R>,
): Promise<R> {
  const limiter = createRateLimiter(ctx.orm.em.fork());
  const input = (await getRawInput()) as { email?: unknown } | undefined;
  const email = typeof input?.email === 'string' ? input.email.trim().toLowerCase() : null;
  const reserved: { use: RateLimitUse; subject: string }[] = [];
  for (const use of limits) {
    const subject = use.by === 'ip' ? ctx.client.ip : use.by === 'user' ? (ctx.user?.id ?? null) : email;
    await limiter.consume(use.name, subject);
    if (use.onlyFailures && subject) reserved.push({ use, subject });
  }
  const result = await run();
  if (result.ok) for (const { use, subject } of reserved) await limiter.release(use.name, subject);
  return result;
}

/**
 * Every procedure call, in order: the CSRF header, API-key scopes, rate limits, the signed-in check
 * (user procedures), then the unit of work — the call gets its own EntityManager fork, and a
 * mutation runs in one transaction — and failures mapped to their tRPC codes (unexpected ones
 * logged). One middleware per procedure rather than one per concern: tRPC copies the call's
 * options and context at every middleware level, which cost more per call than the checks
 * themselves (bench profile, README Performance).
 */
type CallOptions = {
  ctx: ContextInner;
  type: ProcedureType;
  path: string;
  meta: ProcedureMeta | undefined;
  getRawInput: () => Promise<unknown>;
};

async function procedureCall<R extends { ok: true } | { ok: false; error: TRPCError }>(
  { ctx, type, path, meta, getRawInput }: CallOptions,
  signedIn: boolean,
  next: (em: EntityManager) => Promise<R>,
): Promise<R> {
  const unitOfWork = async () => {
    // Before the fork and the transaction: a caller refused here costs no connection.
    if (signedIn && !ctx.user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to continue' });
    const em = ctx.orm.em.fork();
    if (type !== 'mutation') return next(em);
    // begin/commit by hand (rather than em.transactional) so the procedure's result, ok or not,
    // passes through unchanged: a failed result rolls back, a successful one flushes and commits.
    await em.begin();
    try {
      const result = await next(em);
      if (result.ok) await em.commit();
      else await em.rollback();
      return result;
    } catch (error) {
      await em.rollback().catch(() => {});
      throw error;
    }
  };
  // Timed for /metrics here (two clock reads and a counter, ~0.3 µs) rather than in a layer of its own.
  const started = performance.now();
  let failure: TRPCError;
  try {
    checkCsrf(ctx, type);
    checkApiKeyScopes(ctx, type, path, meta);
    const result = meta?.rateLimits?.length
      ? await withRateLimits(ctx, meta.rateLimits, getRawInput, unitOfWork)
      : await unitOfWork();
    if (result.ok) {
      if (type !== 'subscription') recordProcedure(path, (performance.now() - started) / 1000, null);
      return result;
    }
    failure = result.error;
  } catch (cause) {
    failure = getTRPCErrorFromUnknown(cause);
  }
  const error = toTRPCError(failure);
  recordProcedure(path, (performance.now() - started) / 1000, error.code);
  if (error.code === 'INTERNAL_SERVER_ERROR') {
    ctx.logger.error({ err: error.cause ?? error, path, requestId: ctx.requestId }, 'procedure failed');
  } else if (error.code === 'SERVICE_UNAVAILABLE') {
    ctx.logger.warn({ err: error.cause, path, requestId: ctx.requestId }, 'database unavailable');
  }
  throw error;
}

export const publicProcedure = t.procedure.use((opts) =>
  procedureCall(opts, false, (em) => opts.next({ ctx: { em } })),
);

/** A signed-in caller (checked by the same middleware: see procedureCall). */
export const userProcedure = t.procedure.use((opts) =>
  procedureCall(opts, true, (em) => opts.next({ ctx: { em, user: opts.ctx.user as AuthUser } })),
);

/** Reads of the admin area: moderators may look, not touch. */
export const moderatorProcedure = userProcedure.use(({ ctx, next }) => {
  if (!(MODERATOR_ROLES as readonly string[]).includes(ctx.user.role)) {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'Moderators and administrators only' });
  }
  return next();
});

export const adminProcedure = userProcedure.use(({ ctx, next }) => {
  if (!(ADMIN_ROLES as readonly string[]).includes(ctx.user.role)) {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'Administrators only' });
  }
  return next();
});

/** A signed-in caller using a session, not an API key (account, passwords, keys, sessions). */
export const sessionProcedure = userProcedure.meta({ sessionOnly: true });

/**
 * A procedure inside one organization: its input carries `organizationId` (merged with the
 * procedure's own `.input(...)`), and the caller must be a member with at least `atLeast`.
 * Outsiders get NOT_FOUND, members with too small a role FORBIDDEN; `ctx.membership` says who
 * they are there. Platform admins are not members by virtue of their role: they use admin.*.
 */
export const orgProcedure = (atLeast: MembershipRole) =>
  userProcedure.input(z.object({ organizationId: z.uuid() })).use(async ({ ctx, input, next }) => {
    const membership = await requireMembership(ctx.em, ctx.user.id, input.organizationId, atLeast);
    return next({ ctx: { membership } });
  });
