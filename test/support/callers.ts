// `callerFor(db, user)`: the router called in-process with createCaller, as that user (or as an
// anonymous visitor with null). Cookies the procedures set are collected in `cookies`.

import { authenticateSession } from '../../server/modules/identity/session-auth.ts';
import { appRouter } from '../../server/router.ts';
import { type ContextInner, createContextInner } from '../../server/trpc/context.ts';
import { createCallerFactory } from '../../server/trpc/trpc.ts';
import type { TestDatabase } from './database.ts';
import type { TestUser } from './factories.ts';

const createCaller = createCallerFactory(appRouter);

/** The caller is a proxy (every property is a procedure path), so extras live on an object in front of it. */
function withExtras<T extends object, E extends object>(caller: T, extras: E): T & E {
  return Object.assign(Object.create(caller) as T, extras) as T & E;
}

export function callerFor(
  db: TestDatabase,
  user: TestUser | null,
  options: Partial<
    Pick<ContextInner, 'sessionId' | 'authMethod' | 'csrfHeader' | 'client' | 'apiKeyId' | 'scopes'>
  > = {},
) {
  const cookies: string[] = [];
  const ctx = createContextInner(db.deps, {
    user: user
      ? { id: user.id, email: user.email, name: user.name, role: user.role, status: user.status }
      : null,
    cookies: { set: (cookie) => cookies.push(cookie) },
    ...options,
  });
  return withExtras(createCaller(ctx), { cookies, ctx });
}

/** The session id inside a Set-Cookie header list (the last forgeline_session set). */
export function sessionIdFrom(cookies: string[]): string | null {
  for (const cookie of [...cookies].reverse()) {
    const match = /^forgeline_session=([^;]*)/.exec(cookie);
    if (match) return match[1] || null;
  }
  return null;
}

/** A caller authenticated the way an HTTP request is: by validating a session id. */
export async function callerForSession(
  db: TestDatabase,
  sessionId: string,
  options: { csrfHeader?: boolean } = {},
) {
  const cookies: string[] = [];
  const identity = await authenticateSession(db.deps, sessionId, { set: (cookie) => cookies.push(cookie) });
  const ctx = createContextInner(db.deps, {
    ...identity,
    cookies: { set: (cookie) => cookies.push(cookie) },
    csrfHeader: options.csrfHeader ?? true,
  });
  return withExtras(createCaller(ctx), { cookies, ctx });
}
