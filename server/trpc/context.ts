// The tRPC context. `createContextInner` holds everything that does not need req/res: tests and
// in-process callers build contexts with it. The HTTP request's context — who is calling, by API
// key or session cookie — is built by the identity module (modules/identity/http-context.ts) on
// top of it. Each procedure call then forks its own EntityManager (see trpc.ts).
import { randomUUID } from 'node:crypto';
import type { ApiKeyScope } from '../../shared/schemas/identity.ts';
import type { AuthUser, ClientInfo, CookieSink } from '../common/caller.ts';
import type { Deps } from '../runtime.ts';

export type AuthMethod = 'cookie' | 'bearer';

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
