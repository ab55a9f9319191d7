// Who a session cookie belongs to: the check every HTTP request with a `forgeline_session` cookie
// goes through — the tRPC context, file downloads, uploads, the OAuth callback. One Lucia per ORM
// does it (see sessionAuthOf); the session id is hashed before it touches the database (lucia.ts).
import { parse as parseCookies } from 'cookie';
import { SESSION_COOKIE } from '../../../shared/errors.ts';
import type { AuthUser, CookieSink } from '../../common/caller.ts';
import type { Deps } from '../../runtime.ts';
import { type Auth, createAuth } from './lucia.ts';

/** The session id in a Cookie header, if any. */
export const readSessionCookie = (header: string) => parseCookies(header)[SESSION_COOKIE] ?? null;

export type SessionCaller = {
  user: AuthUser | null;
  /** The raw session id (from the cookie), when it is valid. */
  sessionId: string | null;
  authMethod: 'cookie' | null;
};

/**
 * Validates a session id (sliding its expiry when due, refreshing or clearing the cookie) and
 * returns who the caller is. An unknown, expired, capped or banned session identifies no one.
 */
export async function authenticateSession(
  deps: Deps,
  sessionId: string,
  cookies: CookieSink,
): Promise<SessionCaller> {
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
