// Who is calling, as every layer sees it (the tRPC context, the modules' HTTP routes, services):
// the signed-in user, the client's address and user agent, and where Set-Cookie headers go. The
// identity module fills them in; they live here so the tRPC layer can name them without importing
// a module.
import type { UserRole, UserStatus } from '../../shared/schemas/identity.ts';

export type AuthUser = { id: string; email: string; name: string; role: UserRole; status: UserStatus };

export type ClientInfo = { ip: string | null; userAgent: string | null };

/** Where Set-Cookie headers go: the HTTP response, or a list a test can read. */
export type CookieSink = { set(serialized: string): void };
