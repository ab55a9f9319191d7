// Sign-in with a provider (GitHub, Google) once the provider has told us who the user is, and the
// caller's linked accounts. The rules that keep one person's provider account out of another
// person's Forgeline account:
// - a provider account already linked signs in to its user (banned or deactivated: refused);
// - a signed-in user completing the flow links it to themselves (never when it is someone else's);
// - otherwise an existing account with the same email is linked only when BOTH sides verified the
//   address: the provider (else anyone could claim the address there) and Forgeline (else whoever
//   pre-registered the address with a password would receive the victim's provider sign-ins);
// - otherwise a new account is created, with the sign-up bonus, like a password sign-up.
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  emailSchema,
  OAUTH_PROVIDER_LABELS,
  type OAuthFailure,
  type OAuthProvider,
} from '../../../shared/schemas/identity.ts';
import { AppError } from '../../common/app-error.ts';
import type { Config } from '../../config.ts';
import { sql } from '../../db/sql.ts';
import { toOAuthAccountDto } from './identity.dto.ts';
import { type ClientInfo, createAccount, openSession } from './identity.service.ts';
import type { Auth } from './lucia.ts';
import { OAuthAccount } from './oauth-account.entity.ts';
import type { ProviderProfile } from './oauth-providers.ts';
import { User } from './user.entity.ts';

export type OAuthOutcome =
  | { ok: true; kind: 'signed_in' | 'signed_up' | 'linked'; userId: string; sessionId: string | null }
  | { ok: false; reason: OAuthFailure };

const fail = (reason: OAuthFailure): OAuthOutcome => ({ ok: false, reason });

/** The providers this server is configured for (auth.oauth.providers). */
export function configuredProviders(config: Config) {
  return (Object.keys(OAUTH_PROVIDER_LABELS) as OAuthProvider[])
    .filter((provider) => config.oauth[provider] !== null)
    .map((provider) => ({ id: provider, name: OAUTH_PROVIDER_LABELS[provider] }));
}

function inactive(user: User): OAuthFailure | null {
  if (user.status === 'banned') return 'account_banned';
  if (user.status === 'deactivated') return 'account_deactivated';
  return null;
}

/** What the provider last told us, kept for the settings page. */
function remember(account: OAuthAccount, profile: ProviderProfile) {
  account.email = profile.email;
  account.username = profile.username;
  account.lastUsedAt = new Date();
}

function link(em: EntityManager, userId: string, profile: ProviderProfile) {
  em.create(OAuthAccount, {
    provider: profile.provider,
    providerAccountId: profile.providerAccountId,
    user: userId,
    email: profile.email,
    username: profile.username,
    lastUsedAt: new Date(),
  });
}

/**
 * Signs in, signs up or links, in the caller's transaction. `signedInUserId`: the user whose
 * session completed the flow (they are linking), or null.
 */
export async function completeOAuth(
  em: EntityManager,
  auth: Auth,
  profile: ProviderProfile,
  options: { signedInUserId: string | null; client: ClientInfo },
): Promise<OAuthOutcome> {
  const { provider, providerAccountId } = profile;
  const existing = await em.findOne(OAuthAccount, { provider, providerAccountId });

  if (options.signedInUserId) {
    const userId = options.signedInUserId;
    if (existing) {
      if (existing.user.id !== userId) return fail('linked_to_other_user');
      remember(existing, profile);
      await em.flush();
      return { ok: true, kind: 'linked', userId, sessionId: null };
    }
    if (await em.count(OAuthAccount, { user: userId, provider })) return fail('provider_already_linked');
    link(em, userId, profile);
    await em.flush();
    return { ok: true, kind: 'linked', userId, sessionId: null };
  }

  if (existing) {
    const user = await em.findOneOrFail(User, { id: existing.user.id });
    const refused = inactive(user);
    if (refused) return fail(refused);
    remember(existing, profile);
    const { sessionId } = await openSession(em, auth, user, options.client);
    return { ok: true, kind: 'signed_in', userId: user.id, sessionId };
  }

  const email = emailSchema.safeParse(profile.email ?? '');
  if (!email.success) return fail('no_email');
  const sameEmail = await em.findOne(User, { email: email.data });
  if (sameEmail) {
    if (!profile.emailVerified || !sameEmail.emailVerifiedAt) return fail('email_in_use');
    const refused = inactive(sameEmail);
    if (refused) return fail(refused);
    if (await em.count(OAuthAccount, { user: sameEmail.id, provider }))
      return fail('provider_already_linked');
    link(em, sameEmail.id, profile);
    const { sessionId } = await openSession(em, auth, sameEmail, options.client);
    return { ok: true, kind: 'signed_in', userId: sameEmail.id, sessionId };
  }

  const created = await createAccount(em, {
    email: email.data,
    password: null,
    name: (profile.name ?? profile.username ?? email.data.split('@')[0] ?? 'New user').slice(0, 120),
    emailVerifiedAt: profile.emailVerified ? new Date() : null,
    avatarUrl: profile.avatarUrl,
  });
  link(em, created.id, profile);
  const user = await em.findOneOrFail(User, { id: created.id });
  const { sessionId } = await openSession(em, auth, user, options.client);
  return { ok: true, kind: 'signed_up', userId: user.id, sessionId };
}

export async function listOAuthAccounts(em: EntityManager, userId: string) {
  const accounts = await em.find(OAuthAccount, { user: userId }, { orderBy: { createdAt: 'asc' } });
  return accounts.map(toOAuthAccountDto);
}

/**
 * Removes a linked provider account, unless it is the last way to sign in (no password and no
 * other linked account). The user row is locked first, so two unlinks racing each other cannot
 * both pass the check and leave the account with no way in.
 */
export async function unlinkOAuthAccount(em: EntityManager, userId: string, provider: OAuthProvider) {
  const [user] = await sql<{ has_password: boolean }>(
    em,
    'select password_hash is not null as has_password from users where id = $1 for update',
    [userId],
  );
  const linked = await sql<{ provider: OAuthProvider }>(
    em,
    'select provider from oauth_accounts where user_id = $1',
    [userId],
  );
  const label = OAUTH_PROVIDER_LABELS[provider];
  if (!user || !linked.some((row) => row.provider === provider)) {
    throw new AppError('not_found', `No ${label} account is linked`);
  }
  if (!user.has_password && linked.length <= 1) {
    throw new AppError(
      'conflict',
      `${label} is your only way to sign in. Set a password or link another account first.`,
    );
  }
  await sql(em, 'delete from oauth_accounts where user_id = $1 and provider = $2', [userId, provider]);
  return { ok: true as const };
}
