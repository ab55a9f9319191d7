// Plain objects the identity procedures return. Never the entity: it holds the password hash.
import type { UserRole, UserStatus } from '../../../shared/schemas/identity.ts';

export type AuthUser = { id: string; email: string; name: string; role: UserRole; status: UserStatus };

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
