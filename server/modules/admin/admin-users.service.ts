// Admin actions on users: search (trigram-indexed), details, role, ban/unban/deactivate (ending
// every session), hard delete (the ledger keeps its rows with the user nulled), credit adjustments.
// Every change is audited in the same transaction.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import type { adminUsersListInput } from '../../../shared/schemas/admin.ts';
import { ADMIN_ROLES, type UserRole } from '../../../shared/schemas/identity.ts';
import { AppError } from '../../common/app-error.ts';
import { sql, sqlOnReplica } from '../../db/sql.ts';
import { type Actor, record } from '../audit/audit.service.ts';
import { toSubscriptionDto } from '../billing/billing.dto.ts';
import { findCurrentSubscription } from '../billing/billing.service.ts';
import * as credits from '../credits/credits.service.ts';
import * as identity from '../identity/identity.service.ts';
import { User } from '../identity/user.entity.ts';

/** Kept identical to the users_search_trgm_idx expression so the index serves the search. */
export const USER_SEARCH_EXPRESSION =
  "lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || name || ' ' || email)";

const escapeLike = (value: string) => value.replace(/[\\%_]/g, (char) => `\\${char}`);

type UserRow = {
  id: string;
  email: string;
  name: string;
  first_name: string | null;
  last_name: string | null;
  role: UserRole;
  status: string;
  created_at: Date;
  last_login_at: Date | null;
  balance: number | null;
  total: string;
};

export async function listUsers(em: EntityManager, input: z.output<typeof adminUsersListInput>) {
  const where: string[] = [];
  const params: unknown[] = [];
  if (input.search) {
    where.push(
      `${USER_SEARCH_EXPRESSION} like $${params.push(`%${escapeLike(input.search.toLowerCase())}%`)}`,
    );
  }
  if (input.role) {
    where.push(`u.role = $${params.push(input.role)}`);
  }
  if (input.status) {
    where.push(`u.status = $${params.push(input.status)}`);
  }
  const order = {
    created_desc: 'u.created_at desc, u.id desc',
    created_asc: 'u.created_at asc, u.id asc',
    email_asc: 'u.email asc',
  }[input.sort];
  const rows = await sqlOnReplica<UserRow>(
    em,
    `select u.id, u.email, u.name, u.first_name, u.last_name, u.role, u.status, u.created_at, u.last_login_at,
            b.balance, count(*) over () as total
       from users u left join credit_balances b on b.user_id = u.id
      ${where.length ? `where ${where.join(' and ')}` : ''}
      order by ${order}
      limit $${params.length + 1} offset $${params.length + 2}`,
    [...params, input.pageSize, (input.page - 1) * input.pageSize],
  );
  const total = rows[0] ? Number(rows[0].total) : await countUsers(em, where, params);
  return {
    items: rows.map((row) => ({
      id: row.id,
      email: row.email,
      name: row.name,
      firstName: row.first_name,
      lastName: row.last_name,
      role: row.role,
      status: row.status,
      balance: row.balance === null ? null : Number(row.balance),
      createdAt: new Date(row.created_at),
      lastLoginAt: row.last_login_at ? new Date(row.last_login_at) : null,
    })),
    total,
    page: input.page,
    pageSize: input.pageSize,
  };
}

// Past the last page the window count is gone; count separately so the pager still knows the total.
async function countUsers(em: EntityManager, where: string[], params: unknown[]) {
  const [row] = await sqlOnReplica<{ total: string }>(
    em,
    `select count(*) as total from users u ${where.length ? `where ${where.join(' and ')}` : ''}`,
    params,
  );
  return Number(row?.total ?? 0);
}

export async function getUser(em: EntityManager, userId: string) {
  const user = await em.findOne(User, { id: userId });
  if (!user) throw new AppError('not_found', 'No such user');
  const [sessions] = await sql<{ count: string }>(
    em,
    'select count(*) as count from sessions where user_id = $1 and expires_at > now()',
    [userId],
  );
  const [generations] = await sql<{ count: string }>(
    em,
    'select count(*) as count from generations where user_id = $1 and deleted_at is null',
    [userId],
  );
  const subscription = await findCurrentSubscription(em, userId);
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    firstName: user.firstName ?? null,
    lastName: user.lastName ?? null,
    role: user.role,
    status: user.status,
    emailVerifiedAt: user.emailVerifiedAt ?? null,
    lastLoginAt: user.lastLoginAt ?? null,
    createdAt: user.createdAt as Date,
    balance: await credits.balanceOf(em, userId),
    activeSessions: Number(sessions?.count ?? 0),
    generations: Number(generations?.count ?? 0),
    subscription: subscription ? toSubscriptionDto(subscription) : null,
  };
}

/** Nobody acts on their own account: not their role, status, deletion, nor their credits. */
function refuseSelf(actor: Actor, userId: string) {
  if (userId === actor.userId) throw new AppError('bad_request', 'You cannot do this to your own account');
}

async function target(em: EntityManager, actor: Actor & { role: UserRole }, userId: string) {
  refuseSelf(actor, userId);
  const user = await em.findOne(User, { id: userId });
  if (!user) throw new AppError('not_found', 'No such user');
  if (user.role === 'super_admin' && actor.role !== 'super_admin') {
    throw new AppError('forbidden', 'Only a super admin can change a super admin');
  }
  return user;
}

export async function setRole(
  em: EntityManager,
  actor: Actor & { role: UserRole },
  userId: string,
  role: UserRole,
) {
  const user = await target(em, actor, userId);
  if (role === 'super_admin' && actor.role !== 'super_admin') {
    throw new AppError('forbidden', 'Only a super admin can make a super admin');
  }
  const from = user.role;
  user.role = role;
  record(em, actor, 'user.role_set', { type: 'user', id: user.id }, { from, to: role });
  return { id: user.id, role: user.role };
}

export async function ban(
  em: EntityManager,
  actor: Actor & { role: UserRole },
  userId: string,
  reason: string,
) {
  const user = await target(em, actor, userId);
  user.status = 'banned';
  await identity.endSessions(em, user.id);
  record(em, actor, 'user.banned', { type: 'user', id: user.id }, { reason });
  return { id: user.id, status: user.status };
}

export async function unban(em: EntityManager, actor: Actor & { role: UserRole }, userId: string) {
  const user = await target(em, actor, userId);
  if (user.status !== 'banned') throw new AppError('conflict', 'This user is not banned');
  user.status = 'active';
  record(em, actor, 'user.unbanned', { type: 'user', id: user.id });
  return { id: user.id, status: user.status };
}

export async function deactivate(em: EntityManager, actor: Actor & { role: UserRole }, userId: string) {
  const user = await target(em, actor, userId);
  user.status = 'deactivated';
  await identity.endSessions(em, user.id);
  record(em, actor, 'user.deactivated', { type: 'user', id: user.id });
  return { id: user.id, status: user.status };
}

/**
 * Hard delete. Owned rows (sessions, generations, files, subscriptions) go with the user; the
 * ledger and payments stay, with the user nulled, for accounting.
 */
export async function deleteUser(em: EntityManager, actor: Actor & { role: UserRole }, userId: string) {
  const user = await target(em, actor, userId);
  if ((ADMIN_ROLES as readonly string[]).includes(user.role) && actor.role !== 'super_admin') {
    throw new AppError('forbidden', 'Only a super admin can delete an administrator');
  }
  const email = user.email;
  await identity.endSessions(em, user.id);
  await sql(em, 'delete from users where id = $1', [user.id]);
  record(em, actor, 'user.deleted', { type: 'user', id: userId }, { email });
  return { ok: true as const };
}

export async function adjustCredits(
  em: EntityManager,
  actor: Actor,
  input: { userId: string; amount: number; reason: string },
) {
  refuseSelf(actor, input.userId);
  if (!(await em.findOne(User, { id: input.userId }))) throw new AppError('not_found', 'No such user');
  try {
    const posted = await credits.post(em, {
      userId: input.userId,
      type: 'admin_adjustment',
      amount: input.amount,
      description: input.reason,
      performedBy: actor.userId,
    });
    record(
      em,
      actor,
      'credits.adjusted',
      { type: 'user', id: input.userId },
      {
        amount: input.amount,
        reason: input.reason,
        transactionId: posted.id,
        balanceAfter: posted.balanceAfter,
      },
    );
    return { balanceAfter: posted.balanceAfter, transactionId: posted.id };
  } catch (error) {
    if (error instanceof AppError && error.code === 'insufficient_credits') {
      // Credits held by generations in flight cannot be taken: they are released or spent first.
      throw new AppError('bad_request', 'This would take the available balance below zero', {
        fieldErrors: { amount: ['More than the user’s available balance'] },
      });
    }
    throw error;
  }
}
