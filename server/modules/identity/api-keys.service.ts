// API keys: create (the secret once), list, update (name, daily credit budget), revoke, and
// authenticate a bearer. A key is `fl_<prefix><secret>`; we keep the prefix to show and the SHA-256
// of the whole key to look it up.
//
// A key's daily budget (maxCreditsPerDay; null: none) caps what generations asked through it may hold
// or spend per UTC day ("today" is the UTC day: it resets at 00:00 UTC for everyone, whatever their
// time zone). It is enforced by generations.create's one statement (credits.service.ts holdCtes),
// not here; the list shows each key's spend of today (credits.todaysSpendByKey).
import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ADMIN_ROLES, type ApiKeyScope, type UpdateApiKeyInput } from '../../../shared/schemas/identity.ts';
import { AppError } from '../../common/app-error.ts';
import { sql } from '../../db/sql.ts';
import { todaysSpendByKey } from '../credits/credits.service.ts';
import { announceAccessEnded } from './access-events.ts';
import { ApiKey } from './api-key.entity.ts';
import { type AuthUser, toApiKeyDto } from './identity.dto.ts';
import type { User } from './user.entity.ts';

export const API_KEY_PREFIX = 'fl_';
const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

export async function listApiKeys(em: EntityManager, userId: string) {
  const keys = await em.find(ApiKey, { user: userId }, { orderBy: { createdAt: 'desc' } });
  const spent = await todaysSpendByKey(
    em,
    keys.map((key) => key.id),
  );
  return keys.map((key) => toApiKeyDto(key, spent.get(key.id) ?? 0));
}

export async function createApiKey(
  em: EntityManager,
  user: AuthUser,
  input: {
    name: string;
    scopes: ApiKeyScope[];
    expiresAt?: Date | null | undefined;
    maxCreditsPerDay?: number | null | undefined;
  },
) {
  if (input.scopes.includes('admin') && !(ADMIN_ROLES as readonly string[]).includes(user.role)) {
    throw new AppError('forbidden', 'Only administrators can create admin keys', {
      fieldErrors: { scopes: ['Not allowed'] },
    });
  }
  if (input.expiresAt && input.expiresAt <= new Date()) {
    throw new AppError('bad_request', 'The expiry must be in the future', {
      fieldErrors: { expiresAt: ['In the past'] },
    });
  }
  const secret = `${API_KEY_PREFIX}${randomBytes(24).toString('base64url')}`;
  const key = em.create(ApiKey, {
    user: user.id,
    name: input.name,
    prefix: secret.slice(0, 10),
    hash: hashKey(secret),
    scopes: [...new Set(input.scopes)],
    expiresAt: input.expiresAt ?? null,
    maxCreditsPerDay: input.maxCreditsPerDay ?? null,
  });
  await em.flush();
  return { ...toApiKeyDto(key), secret };
}

/**
 * Renames a key or changes its daily budget (null removes it). A lower budget than today's spend
 * refuses the key's next generations until 00:00 UTC; what is already held runs on. A revoked key
 * cannot be changed.
 */
export async function updateApiKey(em: EntityManager, userId: string, input: UpdateApiKeyInput) {
  const key = await em.findOne(ApiKey, { id: input.id, user: userId });
  if (!key) throw new AppError('not_found', 'No such API key');
  if (key.revokedAt) throw new AppError('conflict', 'This key is revoked: create a new one');
  if (input.name !== undefined) key.name = input.name.trim();
  if (input.maxCreditsPerDay !== undefined) key.maxCreditsPerDay = input.maxCreditsPerDay;
  await em.flush();
  const spent = await todaysSpendByKey(em, [key.id]);
  return toApiKeyDto(key, spent.get(key.id) ?? 0);
}

export async function revokeApiKey(em: EntityManager, userId: string, id: string) {
  const key = await em.findOne(ApiKey, { id, user: userId });
  if (!key) throw new AppError('not_found', 'No such API key');
  key.revokedAt ??= new Date();
  await announceAccessEnded(em, { apiKeys: [key.id] });
  const spent = await todaysSpendByKey(em, [key.id]);
  return toApiKeyDto(key, spent.get(key.id) ?? 0);
}

export type BearerIdentity = { user: AuthUser; apiKeyId: string; scopes: ApiKeyScope[] };

/**
 * Who a bearer key identifies: null for an unknown, revoked or expired key, or an inactive user.
 * last_used_at is written at most once a minute per key, so a busy key costs no write per call.
 */
export async function authenticateApiKey(em: EntityManager, key: string): Promise<BearerIdentity | null> {
  if (!key.startsWith(API_KEY_PREFIX) || key.length > 200) return null;
  const row = await em.findOne(ApiKey, { hash: hashKey(key), revokedAt: null }, { populate: ['user'] });
  if (!row || (row.expiresAt && row.expiresAt <= new Date())) return null;
  const user = row.user as User;
  if (user.status !== 'active') return null;
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
    await sql(
      em,
      `update api_keys set last_used_at = now() where id = $1 and (last_used_at is null or last_used_at < now() - interval '1 minute')`,
      [row.id],
    );
  }
  return {
    user: { id: user.id, email: user.email, name: user.name, role: user.role, status: user.status },
    apiKeyId: row.id,
    scopes: row.scopes as ApiKeyScope[],
  };
}
