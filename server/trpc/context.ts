// The tRPC context. `createContextInner` holds everything that does not need req/res: tests and
// in-process callers build contexts with it. `createHttpContextFactory` identifies the caller of an
// HTTP request once, before any procedure runs: a `Bearer fl_…` API key (with its scopes), else the
// session cookie (validated through Lucia, sliding its expiry when due); an unreachable database
// answers 503. Each procedure call then forks its own EntityManager (see trpc.ts).
import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { TRPCError } from '@trpc/server';
import type { CreateExpressContextOptions } from '@trpc/server/adapters/express';
import { parse as parseCookies } from 'cookie';
import { SESSION_COOKIE } from '../../shared/errors.ts';
import type { ApiKeyScope } from '../../shared/schemas/identity.ts';
import type { Logger } from '../common/logger.ts';
import type { Config } from '../config.ts';
import { isDatabaseUnavailable, UNAVAILABLE_MESSAGE } from '../db/unavailable.ts';
import { authenticateApiKey } from '../modules/identity/api-keys.service.ts';
import type { AuthUser } from '../modules/identity/identity.dto.ts';
import type { ClientInfo } from '../modules/identity/identity.service.ts';
import { type Auth, createAuth } from '../modules/identity/lucia.ts';
import type { Runtime } from '../runtime.ts';

export type AuthMethod = 'cookie' | 'bearer';

/** Where Set-Cookie headers go: the HTTP response, or a list a test can read. */
export type CookieSink = { set(serialized: string): void };

export type ContextInner = Deps & {
  requestId: string;
  user: AuthUser | null;
  /** The raw session id (from the cookie), when signed in with a session. */
  sessionId: string | null;
  authMethod: AuthMethod | null;
  client: ClientInfo;
  cookies: CookieSink;
  /** True when a cookie-authenticated request carried the CSRF header (always true off HTTP). */
  csrfHeader: boolean;
  /** Set when the caller authenticated with an API key: which one, and what it may do. */
  apiKeyId: string | null;
  scopes: ApiKeyScope[];
};

/** What every context shares: the ORM, configuration, logger and the runtime (queue, events, storage). */
export type Deps = { orm: MikroORM; config: Config; logger: Logger; runtime: Runtime };

export function createContextInner(
  deps: Deps,
  caller: Partial<Omit<ContextInner, keyof Deps>> = {},
): ContextInner {
  return {
    ...deps,
    requestId: caller.requestId ?? randomUUID(),
    user: caller.user ?? null,
    sessionId: caller.sessionId ?? null,
    authMethod: caller.authMethod ?? (caller.user ? 'cookie' : null),
    client: caller.client ?? { ip: null, userAgent: null },
    cookies: caller.cookies ?? { set() {} },
    csrfHeader: caller.csrfHeader ?? true,
    apiKeyId: caller.apiKeyId ?? null,
    scopes: caller.scopes ?? [],
  };
}

export function createHttpContextFactory(deps: Deps) {
  const identify = async ({
    req,
    res,
  }: Pick<CreateExpressContextOptions, 'req' | 'res'>): Promise<ContextInner> => {
    const cookies: CookieSink = { set: (serialized) => res.appendHeader('Set-Cookie', serialized) };
    const requestId = (req as { id?: string }).id ?? randomUUID();
    const client: ClientInfo = { ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null };
    const csrfHeader = req.get('x-csrf-protection') === '1';
    const base = { requestId, client, cookies, csrfHeader };

    const authorization = req.get('authorization');
    if (authorization?.startsWith('Bearer ')) {
      // An API key: no cookie, no CSRF concern (a browser never attaches it on its own).
      const identity = await authenticateApiKey(deps.orm.em.fork(), authorization.slice(7).trim());
      if (!identity) return createContextInner(deps, { ...base, authMethod: null });
      return createContextInner(deps, {
        ...base,
        user: identity.user,
        authMethod: 'bearer',
        apiKeyId: identity.apiKeyId,
        scopes: identity.scopes,
      });
    }

    const sessionId = readSessionCookie(req.get('cookie') ?? '');
    if (!sessionId) return createContextInner(deps, base);
    return createContextInner(deps, { ...base, ...(await authenticateSession(deps, sessionId, cookies)) });
  };
  // Identifying the caller reads the database before any procedure runs: an unreachable database
  // answers 503 here too, not an internal error.
  return async (options: Pick<CreateExpressContextOptions, 'req' | 'res'>): Promise<ContextInner> => {
    try {
      return await identify(options);
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      deps.logger.warn({ err: error }, 'database unavailable');
      throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: UNAVAILABLE_MESSAGE, cause: error });
    }
  };
}

const readSessionCookie = (header: string) => parseCookies(header)[SESSION_COOKIE] ?? null;

/**
 * Validates a session id (sliding its expiry when due, refreshing or clearing the cookie) and
 * returns who the caller is. An unknown, expired, capped or banned session identifies no one.
 */
export async function authenticateSession(
  deps: Deps,
  sessionId: string,
  cookies: CookieSink,
): Promise<Pick<ContextInner, 'user' | 'sessionId' | 'authMethod'>> {
  const auth = sessionAuthOf(deps);
  const { session, user } = await auth.validateSession(sessionId);
  if (!session) {
    cookies.set(auth.createBlankSessionCookie().serialize());
    return { user: null, sessionId: null, authMethod: null };
  }
  if (session.fresh) cookies.set(auth.createSessionCookie(session.id).serialize());
  return {
    user: { id: user.id, email: user.email, name: user.name, role: user.role, status: user.status },
    sessionId: session.id,
    authMethod: 'cookie',
  };
}

const sessionAuths = new WeakMap<Deps['orm'], { secureCookie: boolean; auth: Auth }>();

/**
 * One Lucia per ORM for checking sessions, built once rather than per request (with a MikroORM fork
 * per request, which cost more than the session read itself). Its EntityManager runs only plain
 * statements outside any transaction — the session read, and the rare expiry slide or delete of an
 * expired session — never entities, so nothing accumulates in it.
 */
function sessionAuthOf(deps: Deps): Auth {
  const secureCookie = deps.config.sessionCookieSecure;
  const cached = sessionAuths.get(deps.orm);
  if (cached?.secureCookie === secureCookie) return cached.auth;
  const auth = createAuth(deps.orm.em.fork(), { secureCookie });
  sessionAuths.set(deps.orm, { secureCookie, auth });
  return auth;
}
