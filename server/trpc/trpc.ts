// initTRPC and the base procedure builders: publicProcedure (anyone), userProcedure (signed in,
// by session or API key), sessionProcedure (signed in with a session, never an API key),
// moderatorProcedure (admin-area reads) and adminProcedure (administrators). Builders that need a
// module live in it, on top of these: orgProcedure(role) in orgs/, rate limits in rate-limits/.
// This layer imports no module (test/architecture/layers.test.ts).
// One middleware runs every call: the CSRF header, API-key scopes, what the procedure's meta wraps
// around its unit of work (rate limits), the signed-in check of user procedures, the unit of work —
// a fork per call (a batch runs its calls concurrently on one context), and for a mutation one
// transaction with a hand-written begin/commit (docs/decisions/0001) — then error mapping and timing.
import type { EntityManager } from '@mikro-orm/postgresql';
import { getTRPCErrorFromUnknown, initTRPC, TRPCError } from '@trpc/server';
import superjson from 'superjson';
import { ADMIN_ROLES, type ApiKeyScope, MODERATOR_ROLES } from '../../shared/schemas/identity.ts';
import type { AuthUser } from '../common/caller.ts';
import type { ContextInner } from './context.ts';
import { errorData, publicMessage, toTRPCError } from './errors.ts';
import { recordProcedure } from './procedure-timings.ts';

/**
 * Runs around a call's unit of work, after the CSRF and scope checks and before its transaction
 * opens: it may refuse the call (throw) or act on its result (`ok` or not). Declared by a module in
 * the procedure's meta — rate limits are the one today (`rateLimited` in rate-limits/).
 */
export type AroundCall = <R extends { ok: boolean }>(
  ctx: ContextInner,
  getRawInput: () => Promise<unknown>,
  run: () => Promise<R>,
) => Promise<R>;

/**
 * Per-procedure facts the middleware reads. `scope`: an API-key scope that allows this mutation
 * besides `write`; `sessionOnly`: refused to API keys (managing keys, passwords, the account);
 * `around`: what runs around the unit of work (see AroundCall); `unitOfWork: false`: a query that
 * only runs `sql()` statements (server/db/sql.ts) and needs no unit of work — see procedureCall.
 */
export type ProcedureMeta = {
  scope?: ApiKeyScope;
  sessionOnly?: boolean;
  around?: AroundCall;
  unitOfWork?: false;
};

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
 * Every procedure call, in order: the CSRF header, API-key scopes, the meta's `around` (rate
 * limits), the signed-in check (user procedures), then the unit of work — the call gets its own
 * EntityManager fork, and a mutation runs in one transaction — and failures mapped to their tRPC
 * codes (unexpected ones logged). One middleware per procedure rather than one per concern: tRPC
 * copies the call's options and context at every middleware level, which cost more per call than
 * the checks themselves (bench profile, README Performance).
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
    // A query declared `unitOfWork: false` gets the ORM's root EntityManager instead of a fork
    // (a fork is ≈ 3 % of a balance read's CPU: MikroORM builds a unit of work and writes
    // process.env twice). sql() outside a transaction needs only its connection; anything that
    // would use an identity map (find, persist, flush, begin) throws on the root EntityManager,
    // because allowGlobalContext is off — a procedure that outgrows the flag fails its tests
    // loudly rather than sharing state (docs/decisions/0001).
    if (type === 'query' && meta?.unitOfWork === false) return next(ctx.orm.em);
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
    const result = meta?.around ? await meta.around(ctx, getRawInput, unitOfWork) : await unitOfWork();
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
