// Account flows: email verification, password reset and change, profile, deactivation. Tokens are
// random, single use, short-lived and stored only as hashes; consuming one is a conditional
// update, so a link works exactly once even when clicked twice at the same moment.
import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuthTokenPurpose } from '../../../shared/schemas/identity.ts';
import { AppError } from '../../common/app-error.ts';
import { uuidv7 } from '../../common/ids.ts';
import { sql } from '../../db/sql.ts';
import { sendMail } from '../mail/mail.service.ts';
import { announceAccessEnded } from './access-events.ts';
import { toProfile } from './identity.dto.ts';
import type { Auth } from './lucia.ts';
import { OAuthAccount } from './oauth-account.entity.ts';
import { hashPassword, verifyPassword } from './password.ts';
import { User } from './user.entity.ts';

const TOKEN_TTL_MS: Record<AuthTokenPurpose, number> = {
  email_verification: 24 * 3600_000,
  password_reset: 3600_000,
  account_activation: 7 * 24 * 3600_000,
};

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

async function issueToken(em: EntityManager, userId: string, purpose: AuthTokenPurpose) {
  const token = randomBytes(32).toString('base64url');
  await sql(
    em,
    `insert into auth_tokens (id, user_id, purpose, token_hash, expires_at, created_at) values ($1, $2, $3, $4, $5, now())`,
    [uuidv7(), userId, purpose, hashToken(token), new Date(Date.now() + TOKEN_TTL_MS[purpose])],
  );
  return token;
}

/** Uses a token once: the user id, or BAD_REQUEST for an unknown, used or expired link. */
async function consumeToken(em: EntityManager, token: string, purpose: AuthTokenPurpose): Promise<string> {
  const rows = await sql<{ user_id: string }>(
    em,
    `update auth_tokens set used_at = now()
      where token_hash = $1 and purpose = $2 and used_at is null and expires_at > now()
      returning user_id`,
    [hashToken(token), purpose],
  );
  const userId = rows[0]?.user_id;
  if (!userId) {
    throw new AppError('bad_request', 'This link is invalid, used or expired', {
      fieldErrors: { token: ['This link is invalid, used or expired'] },
    });
  }
  return userId;
}

export async function requestEmailVerification(em: EntityManager, userId: string, publicUrl: string) {
  const user = await em.findOneOrFail(User, { id: userId });
  if (user.emailVerifiedAt) return { sent: false as const };
  const token = await issueToken(em, user.id, 'email_verification');
  sendMail(em, {
    to: user.email,
    subject: 'Confirm your email for Forgeline',
    body: `Confirm your email address: ${publicUrl}/verify-email?token=${token}\nThe link works once, for 24 hours.`,
  });
  return { sent: true as const };
}

export async function verifyEmail(em: EntityManager, token: string) {
  const userId = await consumeToken(em, token, 'email_verification');
  await sql(
    em,
    'update users set email_verified_at = coalesce(email_verified_at, now()), updated_at = now() where id = $1',
    [userId],
  );
  return { ok: true as const };
}

/** Always answers the same, whether or not the email has an account. */
export async function requestPasswordReset(em: EntityManager, email: string, publicUrl: string) {
  const user = await em.findOne(User, { email });
  if (user && user.status === 'active') {
    const token = await issueToken(em, user.id, 'password_reset');
    sendMail(em, {
      to: user.email,
      subject: 'Reset your Forgeline password',
      body: `Choose a new password: ${publicUrl}/reset-password?token=${token}\nThe link works once, for one hour. If you did not ask for it, ignore this email.`,
    });
  }
  return { ok: true as const };
}

/**
 * Sets the new password, ends every session, and signs the user in with a fresh one. It is also how
 * an account made through a provider (no password) gets one. A reset proves the mailbox: on an
 * account whose email was not verified yet, it marks it verified and removes every linked provider
 * account — whoever held the account before this proof (someone who registered another person's
 * address, with a password or a provider that did not verify it) may have linked their own.
 */
export async function resetPassword(
  em: EntityManager,
  auth: Auth,
  token: string,
  password: string,
  client: { ip: string | null; userAgent: string | null },
) {
  const userId = await consumeToken(em, token, 'password_reset');
  const user = await em.findOneOrFail(User, { id: userId });
  if (user.status !== 'active') throw new AppError('forbidden', 'This account is not active');
  user.passwordHash = await hashPassword(password);
  if (!user.emailVerifiedAt) {
    user.emailVerifiedAt = new Date();
    await em.nativeDelete(OAuthAccount, { user: user.id });
  }
  await em.flush();
  await auth.invalidateUserSessions(user.id);
  const session = await auth.createSession(user.id, { ...client });
  return { userId: user.id, sessionId: session.id };
}

/**
 * An account made through a provider has no password to confirm with: it sets one by the reset
 * email first (settings offers it), which proves the mailbox rather than trusting the session.
 */
function noPasswordYet(field: string) {
  const message =
    'Your account has no password yet. Set one with the link we email you (Settings → Set a password).';
  return new AppError('bad_request', message, { fieldErrors: { [field]: [message] } });
}

/** Checks the current password; ends every other session and rotates the caller's. */
export async function changePassword(
  em: EntityManager,
  auth: Auth,
  userId: string,
  input: { currentPassword: string; newPassword: string },
  client: { ip: string | null; userAgent: string | null },
) {
  const user = await em.findOneOrFail(User, { id: userId }, { populate: ['passwordHash'] });
  if (!user.passwordHash) throw noPasswordYet('currentPassword');
  if (!(await verifyPassword(user.passwordHash, input.currentPassword))) {
    throw new AppError('bad_request', 'The current password is wrong', {
      fieldErrors: { currentPassword: ['Wrong password'] },
    });
  }
  user.passwordHash = await hashPassword(input.newPassword);
  await em.flush();
  await auth.invalidateUserSessions(user.id);
  const session = await auth.createSession(user.id, { ...client });
  return { sessionId: session.id };
}

export async function revokeOtherSessions(em: EntityManager, userId: string, currentHandle: string | null) {
  const deleted = await sql<{ id: string }>(
    em,
    'delete from sessions where user_id = $1 and id is distinct from $2 returning id',
    [userId, currentHandle],
  );
  await announceAccessEnded(em, { sessions: deleted.map((row) => row.id) });
  return { revoked: deleted.length };
}

export async function updateProfile(
  em: EntityManager,
  userId: string,
  input: {
    name?: string | undefined;
    firstName?: string | null | undefined;
    lastName?: string | null | undefined;
    avatarUrl?: string | null | undefined;
  },
) {
  const user = await em.findOneOrFail(User, { id: userId }, { populate: ['passwordHash'] });
  if (input.name !== undefined) user.name = input.name;
  if (input.firstName !== undefined) user.firstName = input.firstName || null;
  if (input.lastName !== undefined) user.lastName = input.lastName || null;
  if (input.avatarUrl !== undefined) user.avatarUrl = input.avatarUrl || null;
  await em.flush();
  return toProfile(user);
}

/** The caller's profile, for the settings page (auth.me stays the small hot read). */
export async function getProfile(em: EntityManager, userId: string) {
  return toProfile(await em.findOneOrFail(User, { id: userId }, { populate: ['passwordHash'] }));
}

export async function deactivate(em: EntityManager, auth: Auth, userId: string, password: string) {
  const user = await em.findOneOrFail(User, { id: userId }, { populate: ['passwordHash'] });
  if (!user.passwordHash) throw noPasswordYet('password');
  if (!(await verifyPassword(user.passwordHash, password))) {
    throw new AppError('bad_request', 'The password is wrong', {
      fieldErrors: { password: ['Wrong password'] },
    });
  }
  user.status = 'deactivated';
  await em.flush();
  await auth.invalidateUserSessions(user.id);
  // Its API keys stop working with it: their streams end too.
  await announceAccessEnded(em, { users: [user.id] });
  return { ok: true as const };
}

/** Deletes up to `limit` email tokens that expired before `now` (the retention job's batches). */
export async function deleteExpiredTokens(em: EntityManager, now: Date, limit: number): Promise<number> {
  const rows = await sql<{ id: string }>(
    em,
    `delete from auth_tokens where id in (
       select id from auth_tokens where expires_at < $1 limit $2 for update skip locked)
     returning id`,
    [now, limit],
  );
  return rows.length;
}
