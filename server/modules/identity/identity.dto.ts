// Plain objects the identity procedures return. Never the entity: it holds the password hash.
import type { ApiKeyScope, OAuthProvider } from '../../../shared/schemas/identity.ts';
import type { AuthUser } from '../../common/caller.ts';
import type { ApiKey } from './api-key.entity.ts';
import type { User } from './user.entity.ts';

export type { AuthUser };

export const toMeDto = (user: AuthUser) => ({
  id: user.id,
  email: user.email,
  name: user.name,
  role: user.role,
});
export type MeDto = ReturnType<typeof toMeDto>;

export type SessionListItem = {
  /** The session's public handle (SHA-256 of its id). */
  id: string;
  ip: string | null;
  userAgent: string | null;
  createdAt: Date | null;
  expiresAt: Date;
  current: boolean;
};

export const toOAuthAccountDto = (account: {
  provider: OAuthProvider;
  email?: string | null;
  username?: string | null;
  createdAt: Date;
  lastUsedAt?: Date | null;
}) => ({
  provider: account.provider,
  email: account.email ?? null,
  username: account.username ?? null,
  linkedAt: account.createdAt,
  lastUsedAt: account.lastUsedAt ?? null,
});
export type OAuthAccountDto = ReturnType<typeof toOAuthAccountDto>;

/** The caller's profile (account.profile, account.updateProfile). */
export const toProfile = (user: User) => ({
  id: user.id,
  email: user.email,
  name: user.name,
  firstName: user.firstName ?? null,
  lastName: user.lastName ?? null,
  avatarUrl: user.avatarUrl ?? null,
  emailVerifiedAt: user.emailVerifiedAt ?? null,
  /** False for an account made through a provider until a password is set (by the reset email). */
  hasPassword: Boolean(user.passwordHash),
});
export type ProfileDto = ReturnType<typeof toProfile>;

export const toApiKeyDto = (key: ApiKey, spentToday = 0) => ({
  id: key.id,
  name: key.name,
  prefix: key.prefix,
  scopes: key.scopes as ApiKeyScope[],
  /** Credits generations through the key may hold or spend per UTC day; null: no budget. */
  maxCreditsPerDay: key.maxCreditsPerDay ?? null,
  /** Held or spent through the key today (UTC day; released holds given back). */
  spentToday,
  lastUsedAt: key.lastUsedAt ?? null,
  expiresAt: key.expiresAt ?? null,
  revokedAt: key.revokedAt ?? null,
  createdAt: key.createdAt as Date,
});
export type ApiKeyDto = ReturnType<typeof toApiKeyDto>;
