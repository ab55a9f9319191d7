// Sign-up, sign-in and sessions. A sign-up creates the user, their balance and the sign-up bonus in
// the caller's transaction; sign-in answers an unknown email exactly like a wrong password.
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import type { signInInput, signUpInput } from '../../../shared/schemas/identity.ts';
import { AppError } from '../../common/app-error.ts';
import type { ClientInfo } from '../../common/caller.ts';
import { sql } from '../../db/sql.ts';
import { record, SYSTEM } from '../audit/audit.service.ts';
import * as credits from '../credits/credits.service.ts';
import { getSettings } from '../settings/settings.service.ts';
import { announceAccessEnded } from './access-events.ts';
import type { AuthUser, SessionListItem } from './identity.dto.ts';
import { type Auth, hashSessionId } from './lucia.ts';
import { hashPassword, verifyAgainstDummy, verifyPassword } from './password.ts';
import { Session } from './session.entity.ts';
import { User } from './user.entity.ts';

export type { ClientInfo };
export type SignedIn = { user: AuthUser; sessionId: string };

const INVALID_CREDENTIALS = 'Wrong email or password';

const toAuthUser = (user: User): AuthUser => ({
  id: user.id,
  email: user.email,
  name: user.name,
  role: user.role,
  status: user.status,
});

/**
 * Creates an account with its balance and sign-up bonus. Does not sign in. `password: null` makes
 * an account that signs in only through a linked provider (OAuth) until a password is set.
 */
export async function createAccount(
  em: EntityManager,
  input: {
    email: string;
    password: string | null;
    name: string;
    role?: User['role'];
    emailVerifiedAt?: Date | null;
    avatarUrl?: string | null;
  },
): Promise<AuthUser> {
  const passwordHash = input.password === null ? null : await hashPassword(input.password);
  const user = em.create(User, {
    email: input.email,
    name: input.name,
    passwordHash,
    role: input.role ?? 'user',
    emailVerifiedAt: input.emailVerifiedAt ?? null,
    avatarUrl: input.avatarUrl ?? null,
  });
  credits.openBalance(em, user);
  try {
    await em.flush();
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) {
      throw new AppError('conflict', 'This email is already registered', {
        fieldErrors: { email: ['This email is already registered'] },
      });
    }
    throw error;
  }
  const { signupBonus } = await getSettings(em);
  if (signupBonus > 0) {
    const posted = await credits.grant(em, user.id, signupBonus, 'signup_bonus', {
      description: 'Welcome bonus',
    });
    record(
      em,
      SYSTEM,
      'credits.signup_bonus',
      { type: 'user', id: user.id },
      { amount: signupBonus, transactionId: posted.id },
    );
  }
  return toAuthUser(user);
}

export async function signUp(
  em: EntityManager,
  auth: Auth,
  input: z.output<typeof signUpInput>,
  client: ClientInfo,
): Promise<SignedIn> {
  const user = await createAccount(em, input);
  const session = await auth.createSession(user.id, { ...client });
  return { user, sessionId: session.id };
}

export async function signIn(
  em: EntityManager,
  auth: Auth,
  input: z.output<typeof signInInput>,
  client: ClientInfo,
): Promise<SignedIn> {
  const user = await em.findOne(User, { email: input.email }, { populate: ['passwordHash'] });
  const valid = user?.passwordHash
    ? await verifyPassword(user.passwordHash, input.password)
    : await verifyAgainstDummy(input.password);
  if (!user || !valid) throw new AppError('invalid_credentials', INVALID_CREDENTIALS);
  if (user.status !== 'active') {
    throw new AppError(
      'forbidden',
      user.status === 'banned' ? 'This account is suspended' : 'This account is deactivated',
    );
  }
  return openSession(em, auth, user, client);
}

/** The end of every sign-in (password or provider), once the account is known to be active. */
export async function openSession(
  em: EntityManager,
  auth: Auth,
  user: User,
  client: ClientInfo,
): Promise<SignedIn> {
  user.lastLoginAt = new Date();
  await em.flush();
  const session = await auth.createSession(user.id, { ...client });
  return { user: toAuthUser(user), sessionId: session.id };
}

export function signOut(auth: Auth, sessionId: string): Promise<void> {
  return auth.invalidateSession(sessionId);
}

export async function listSessions(
  auth: Auth,
  userId: string,
  currentSessionId: string | null,
): Promise<SessionListItem[]> {
  const currentHandle = currentSessionId ? hashSessionId(currentSessionId) : null;
  const sessions = await auth.getUserSessions(userId);
  return sessions.map((session) => ({
    // The adapter hands back stored rows, whose id is already the hash.
    id: session.id,
    ip: session.ip,
    userAgent: session.userAgent,
    createdAt: session.createdAt ?? null,
    expiresAt: session.expiresAt,
    current: session.id === currentHandle,
  }));
}

/** Ends one of the user's sessions by its public handle; NOT_FOUND for anyone else's. */
export async function revokeSession(em: EntityManager, userId: string, handle: string): Promise<void> {
  const deleted = await em.nativeDelete(Session, { id: handle, user: userId });
  if (!deleted) throw new AppError('not_found', 'No such session');
  await announceAccessEnded(em, { sessions: [handle] });
}

/**
 * For an account that may no longer sign in (banned, deactivated, deleted): ends every session,
 * and announces the account so that its open streams close, API-key streams included.
 */
export async function endSessions(em: EntityManager, userId: string): Promise<void> {
  await sql(em, 'delete from sessions where user_id = $1', [userId]);
  await announceAccessEnded(em, { users: [userId] });
}

/**
 * Deletes up to `limit` sessions that expired before `now` (the retention job's batches; rows a
 * concurrent batch holds are skipped) and says how many. Expiry is announced by nobody: open live
 * streams find out on their own re-check (access-events.ts).
 */
export async function deleteExpiredSessions(em: EntityManager, now: Date, limit: number): Promise<number> {
  const rows = await sql<{ id: string }>(
    em,
    `delete from sessions where id in (
       select id from sessions where expires_at < $1 limit $2 for update skip locked)
     returning id`,
    [now, limit],
  );
  return rows.length;
}
