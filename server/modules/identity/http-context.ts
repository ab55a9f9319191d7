// The tRPC context of an HTTP request: who is calling, identified once before any procedure runs —
// a `Bearer fl_…` API key (with its scopes), else the session cookie. An unreachable database
// answers 503 here too, not an internal error.
import { randomUUID } from 'node:crypto';
import { TRPCError } from '@trpc/server';
import type { CreateExpressContextOptions } from '@trpc/server/adapters/express';
import type { ClientInfo, CookieSink } from '../../common/caller.ts';
import { isDatabaseUnavailable, UNAVAILABLE_MESSAGE } from '../../db/unavailable.ts';
import type { Deps } from '../../runtime.ts';
import { type ContextInner, createContextInner } from '../../trpc/context.ts';
import { authenticateApiKey } from './api-keys.service.ts';
import { authenticateSession, readSessionCookie } from './session-auth.ts';

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
