// Plain objects the identity procedures return. Never the entity: it holds the password hash.
import type { OAuthProvider } from '../../../shared/schemas/identity.ts';
import type { AuthUser } from '../../common/caller.ts';

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
