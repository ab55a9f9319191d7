// Sign-in with GitHub and Google through the real app over HTTP: GitHub against a loopback server
// speaking its OAuth web flow and REST API, Google against a real OpenID provider (oidc-provider)
// on loopback. The test drives the redirects like a browser, hop by hop, so it can tamper with them.
import { generateCodeVerifier } from 'arctic';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config.ts';
import { AuditLog } from '../../server/modules/audit/audit-log.entity.ts';
import { configuredProviders } from '../../server/modules/identity/oauth.service.ts';
import { OAuthAccount } from '../../server/modules/identity/oauth-account.entity.ts';
import { ProviderError, providerClients } from '../../server/modules/identity/oauth-providers.ts';
import { User } from '../../server/modules/identity/user.entity.ts';
import { MailOutbox } from '../../server/modules/mail/mail-outbox.entity.ts';
import { callerFor, callerForSession } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { codeOf, failureOf } from '../support/errors.ts';
import { createUser, uniqueEmail } from '../support/factories.ts';
import { type FakeGitHub, type FakeGitHubUser, githubUser, startFakeGitHub } from '../support/fake-github.ts';
import {
  type FakeGoogle,
  type FakeGoogleAccount,
  googleAccount,
  startFakeGoogle,
} from '../support/fake-google.ts';
import { setupTestServer } from '../support/http.ts';
import { UserAgent } from '../support/user-agent.ts';
import { waitFor } from '../support/wait.ts';

const PUBLIC_URL = 'http://forgeline.test';
let github: FakeGitHub;
let google: FakeGoogle;
const env: Record<string, string> = { PUBLIC_URL };
beforeAll(async () => {
  [github, google] = await Promise.all([startFakeGitHub(), startFakeGoogle({ idTokenClaims: 'all' })]);
  github.setCallbackUrl(`${PUBLIC_URL}/auth/oauth/github/callback`);
  await google.register(`${PUBLIC_URL}/auth/oauth/google/callback`);
  Object.assign(env, {
    GITHUB_CLIENT_ID: github.clientId,
    GITHUB_CLIENT_SECRET: github.clientSecret,
    GITHUB_OAUTH_BASE: github.url,
    GITHUB_API_BASE: github.url,
    GOOGLE_CLIENT_ID: google.clientId,
    GOOGLE_CLIENT_SECRET: google.clientSecret,
    GOOGLE_ISSUER: google.url,
  });
});
afterAll(async () => {
  await Promise.all([github?.close(), google?.close()]);
});
const db = setupTestDatabase({ env });
const server = setupTestServer(db);

const em = () => db.orm.em.fork();
const isCallback = (url: URL) =>
  url.pathname.endsWith('/callback') && url.pathname.startsWith('/auth/oauth/');
const browser = () => new UserAgent(server, PUBLIC_URL);

/** Starts the flow and goes through the provider; returns the callback URL the provider sent back. */
async function throughProvider(ua: UserAgent, provider: 'github' | 'google') {
  return ua.followUntil(`/auth/oauth/${provider}`, isCallback);
}

/** The whole flow; returns where the app sent the browser, and the session it set (if any). */
async function signInWith(provider: 'github' | 'google', ua = browser()) {
  const callback = await throughProvider(ua, provider);
  const hop = await ua.get(callback);
  return {
    ua,
    status: hop.status,
    location: new URL(hop.location ?? '', server.baseUrl),
    sessionId: ua.appJar.get('forgeline_session') ?? null,
  };
}

async function callerOf(sessionId: string | null) {
  if (!sessionId) throw new Error('no session cookie was set');
  return callerForSession(db, sessionId);
}

const asGitHub = (overrides: Partial<FakeGitHubUser> = {}) => {
  const user = githubUser(overrides);
  github.signIn(user);
  return user;
};
const asGoogle = (overrides: Partial<FakeGoogleAccount> = {}) => {
  const account = googleAccount(overrides);
  google.signIn(account);
  return account;
};

async function verifiedPasswordUser(email = uniqueEmail('pw')) {
  const user = await createUser(db, { email });
  await em().nativeUpdate(User, { id: user.id }, { emailVerifiedAt: new Date() });
  return user;
}

/** Connections of this database waiting on a lock (seen from `client`, possibly inside a transaction). */
async function lockWaiters(client: pg.Client): Promise<number> {
  // Inside a transaction, pg_stat_activity is a snapshot: clear it to see the present.
  await client.query('select pg_stat_clear_snapshot()');
  const { rows } = await client.query(
    `select count(*)::int as n from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock'`,
  );
  return rows[0].n;
}

const linksOf = async (userId: string) =>
  (await em().find(OAuthAccount, { user: userId }, { orderBy: { provider: 'asc' } })).map((a) => a.provider);

describe('configuration', () => {
  it('offers exactly the configured providers', async () => {
    await expect(callerFor(db, null).auth.oauth.providers()).resolves.toEqual([
      { id: 'github', name: 'GitHub' },
      { id: 'google', name: 'Google' },
    ]);
    expect(configuredProviders(loadConfig({ NODE_ENV: 'test' }))).toEqual([]);
    expect(
      configuredProviders(
        loadConfig({ NODE_ENV: 'test', GOOGLE_CLIENT_ID: 'id', GOOGLE_CLIENT_SECRET: 's' }),
      ),
    ).toEqual([{ id: 'google', name: 'Google' }]);
  });

  it('refuses a client id without its secret, naming the missing variable', () => {
    expect(() => loadConfig({ GITHUB_CLIENT_ID: 'id' })).toThrow(ConfigError);
    expect(() => loadConfig({ GITHUB_CLIENT_ID: 'id' })).toThrow(/GITHUB_CLIENT_SECRET/);
    expect(() => loadConfig({ GOOGLE_CLIENT_SECRET: 's' })).toThrow(/GOOGLE_CLIENT_ID/);
  });

  it('answers 404 for a provider that is not offered', async () => {
    expect((await browser().get('/auth/oauth/facebook')).status).toBe(404);
    expect((await browser().get('/auth/oauth/facebook/callback?code=x&state=y')).status).toBe(404);
  });

  it('keeps state and verifier in short-lived HttpOnly cookies scoped to the provider', async () => {
    const response = await fetch(`${server.baseUrl}/auth/oauth/google`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    const cookies = response.headers.getSetCookie();
    expect(cookies).toHaveLength(2);
    for (const cookie of cookies) {
      expect(cookie).toMatch(/^forgeline_oauth_(state|verifier)=[\w-]{20,};/);
      expect(cookie).toMatch(/Max-Age=600/);
      expect(cookie).toMatch(/Path=\/auth\/oauth\/google/);
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Lax/);
    }
    const authorize = new URL(response.headers.get('location') ?? '');
    expect(authorize.origin).toBe(google.url);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${PUBLIC_URL}/auth/oauth/google/callback`);
  });
});

describe('GitHub', () => {
  it('creates the account on first sign-in: verified email, sign-up bonus, no password, signed in', async () => {
    const octo = asGitHub({ name: 'Octo Founder' });
    const { location, sessionId } = await signInWith('github');
    expect(location.pathname).toBe('/');
    const caller = await callerOf(sessionId);
    const me = await caller.auth.me();
    expect(me).toMatchObject({ email: octo.emails[0]?.email, name: 'Octo Founder', role: 'user' });
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 100, totalGranted: 100 });
    const profile = await caller.account.get();
    expect(profile.emailVerifiedAt).toBeInstanceOf(Date);
    expect(profile.hasPassword).toBe(false);
    expect(profile.avatarUrl).toBe(octo.avatarUrl);
    await expect(caller.account.oauth.list()).resolves.toMatchObject([
      { provider: 'github', email: octo.emails[0]?.email, username: octo.login },
    ]);
    // The same path as a password sign-up: the bonus is audited.
    expect(await em().count(AuditLog, { action: 'credits.signup_bonus', targetId: me?.id })).toBe(1);
  });

  it('signs a returning account in to the same user, with a new session and no second bonus', async () => {
    asGitHub();
    const first = await signInWith('github');
    const second = await signInWith('github');
    expect(second.location.pathname).toBe('/');
    expect(second.sessionId).not.toBe(first.sessionId);
    const [a, b] = await Promise.all([
      (await callerOf(first.sessionId)).auth.me(),
      (await callerOf(second.sessionId)).auth.me(),
    ]);
    expect(b?.id).toBe(a?.id);
    await expect((await callerOf(second.sessionId)).credits.balance()).resolves.toMatchObject({
      balance: 100,
    });
  });

  it('signs two racing first sign-ins of one GitHub account in to one new account', async () => {
    const octo = asGitHub();
    const [first, second] = [browser(), browser()];
    const callbacks = [await throughProvider(first, 'github'), await throughProvider(second, 'github')];
    // Hold the link table so the first sign-in waits after creating the user and the second runs
    // into that uncommitted user: the race is certain, not left to timing.
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    let hops: Awaited<ReturnType<UserAgent['get']>>[];
    try {
      await blocker.query('begin');
      await blocker.query('lock table oauth_accounts in exclusive mode');
      const racing = Promise.all([first.get(callbacks[0] ?? ''), second.get(callbacks[1] ?? '')]);
      await waitFor(() => lockWaiters(blocker).then((n) => n >= 2), { what: 'both callbacks waiting' });
      await blocker.query('commit');
      hops = await racing;
    } finally {
      await blocker.end();
    }
    expect(hops.map((hop) => new URL(hop.location ?? '', server.baseUrl).pathname)).toEqual(['/', '/']);
    const [a, b] = await Promise.all(
      [first, second].map(async (ua) =>
        (await callerOf(ua.appJar.get('forgeline_session') ?? null)).auth.me(),
      ),
    );
    expect(a?.id).toBe(b?.id);
    expect(await em().count(User, { email: octo.emails[0]?.email ?? '' })).toBe(1);
  });

  it('uses a verified address when the primary one is not verified', async () => {
    const email = uniqueEmail('secondary');
    asGitHub({
      emails: [
        { email: uniqueEmail('primary'), primary: true, verified: false },
        { email, primary: false, verified: true },
      ],
    });
    const { sessionId } = await signInWith('github');
    await expect((await callerOf(sessionId)).auth.me()).resolves.toMatchObject({ email });
  });

  it('links to an existing account with the same verified email, on both sides', async () => {
    const existing = await verifiedPasswordUser();
    asGitHub({ emails: [{ email: existing.email.toUpperCase(), primary: true, verified: true }] });
    const { location, sessionId } = await signInWith('github');
    expect(location.pathname).toBe('/');
    await expect((await callerOf(sessionId)).auth.me()).resolves.toMatchObject({ id: existing.id });
    expect(await linksOf(existing.id)).toEqual(['github']);
    // Still one account, with its one bonus.
    expect(await em().count(User, { email: existing.email })).toBe(1);
  });

  it('does not link when the existing account never verified that email (pre-registration takeover)', async () => {
    const existing = await createUser(db, { email: uniqueEmail('unverified') });
    asGitHub({ emails: [{ email: existing.email, primary: true, verified: true }] });
    const { ua, location, sessionId } = await signInWith('github');
    expect(location.pathname).toBe('/sign-in');
    expect(Object.fromEntries(location.searchParams)).toEqual({
      oauth_error: 'email_in_use',
      provider: 'github',
    });
    expect(sessionId).toBeNull();
    expect(ua.appJar.get('forgeline_session')).toBeUndefined();
    expect(await linksOf(existing.id)).toEqual([]);
  });

  it('does not link when the provider did not verify the email (provider-side takeover)', async () => {
    const existing = await verifiedPasswordUser();
    asGitHub({ emails: [{ email: existing.email, primary: true, verified: false }] });
    const { location, sessionId } = await signInWith('github');
    expect(location.searchParams.get('oauth_error')).toBe('email_in_use');
    expect(sessionId).toBeNull();
    expect(await linksOf(existing.id)).toEqual([]);
  });

  it('creates an account with an unverified email when the provider did not verify it, and a reset proves the mailbox', async () => {
    const email = uniqueEmail('unproven');
    asGitHub({ emails: [{ email, primary: true, verified: false }] });
    const { sessionId } = await signInWith('github');
    const caller = await callerOf(sessionId);
    const me = await caller.auth.me();
    expect((await caller.account.get()).emailVerifiedAt).toBeNull();
    expect(await linksOf(me?.id ?? '')).toEqual(['github']);

    // Whoever owns the mailbox takes the account over by a password reset: the links made before
    // that proof go (they could be someone else's), the email counts as verified.
    const anonymous = callerFor(db, null);
    await anonymous.auth.requestPasswordReset({ email });
    const [mail] = await em().find(MailOutbox, { to: email }, { orderBy: { createdAt: 'desc' }, limit: 1 });
    const token = /token=([\w-]+)/.exec(mail?.body ?? '')?.[1] ?? '';
    await anonymous.auth.resetPassword({ token, password: 'the mailbox owner password' });
    expect(await linksOf(me?.id ?? '')).toEqual([]);
    const owner = await em().findOneOrFail(User, { id: me?.id ?? '' });
    expect(owner.emailVerifiedAt).toBeInstanceOf(Date);
    // The GitHub account that held it now gets an account of its own? No: its email is taken and
    // now verified, but GitHub never verified it — so it is refused, not linked.
    const again = await signInWith('github');
    expect(again.location.searchParams.get('oauth_error')).toBe('email_in_use');
  });

  it('refuses a GitHub account with no email address at all', async () => {
    asGitHub({ emails: [] });
    const { location, sessionId } = await signInWith('github');
    expect(location.searchParams.get('oauth_error')).toBe('no_email');
    expect(sessionId).toBeNull();
  });

  it('refuses a tampered state before talking to GitHub', async () => {
    asGitHub();
    const ua = browser();
    const callback = new URL(await throughProvider(ua, 'github'));
    callback.searchParams.set('state', `${callback.searchParams.get('state')}x`);
    const before = github.tokenRequests;
    const hop = await ua.get(callback.toString());
    expect(new URL(hop.location ?? '', server.baseUrl).searchParams.get('oauth_error')).toBe(
      'state_mismatch',
    );
    expect(github.tokenRequests).toBe(before);
    expect(ua.appJar.get('forgeline_session')).toBeUndefined();
  });

  it('refuses a callback finished in another browser (no state cookie: login CSRF)', async () => {
    asGitHub();
    const attacker = browser();
    const callback = await throughProvider(attacker, 'github');
    const victim = browser();
    const hop = await victim.get(callback);
    expect(new URL(hop.location ?? '', server.baseUrl).searchParams.get('oauth_error')).toBe(
      'state_mismatch',
    );
    expect(victim.appJar.get('forgeline_session')).toBeUndefined();
  });

  it('refuses a replayed code, even with the original state cookie put back', async () => {
    asGitHub();
    const ua = browser();
    const callback = await throughProvider(ua, 'github');
    const state = ua.appJar.get('forgeline_oauth_state') ?? '';
    expect((await ua.get(callback)).location).toMatch(/\/$/);
    const users = await em().count(User, {});

    // Replay in a fresh browser that carries the stolen state cookie: GitHub refuses the used code.
    const replayer = browser();
    replayer.appJar.store(
      new Response(null, { headers: { 'set-cookie': `forgeline_oauth_state=${state}; Path=/` } }),
    );
    const hop = await replayer.get(callback);
    expect(new URL(hop.location ?? '', server.baseUrl).searchParams.get('oauth_error')).toBe(
      'provider_failed',
    );
    expect(replayer.appJar.get('forgeline_session')).toBeUndefined();
    expect(await em().count(User, {})).toBe(users);
    // And the first browser's cookies were cleared by the first callback: the same URL again is refused.
    const again = await ua.get(callback);
    expect(new URL(again.location ?? '', server.baseUrl).searchParams.get('oauth_error')).toBe(
      'state_mismatch',
    );
  });

  it('tells the sign-in page when the user cancels at GitHub', async () => {
    github.signIn(null);
    const { location } = await signInWith('github');
    expect(Object.fromEntries(location.searchParams)).toEqual({
      oauth_error: 'provider_denied',
      provider: 'github',
    });
  });

  it('refuses a banned or deactivated account that returns through its provider', async () => {
    for (const status of ['banned', 'deactivated'] as const) {
      asGitHub();
      const { sessionId } = await signInWith('github');
      const me = await (await callerOf(sessionId)).auth.me();
      await em().nativeUpdate(User, { id: me?.id ?? '' }, { status });
      const again = await signInWith('github');
      expect(again.location.searchParams.get('oauth_error')).toBe(`account_${status}`);
      expect(again.sessionId).toBeNull();
    }
  });
});

describe('Google (OpenID Connect)', () => {
  it('creates the account on first sign-in from the verified ID token, with the sign-up bonus', async () => {
    const grace = asGoogle({ name: 'Grace Hopper', picture: 'https://lh3.example.test/grace.png' });
    const { location, sessionId } = await signInWith('google');
    expect(location.pathname).toBe('/');
    const caller = await callerOf(sessionId);
    await expect(caller.auth.me()).resolves.toMatchObject({ email: grace.email, name: 'Grace Hopper' });
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 100 });
    const profile = await caller.account.get();
    expect(profile).toMatchObject({ hasPassword: false, avatarUrl: 'https://lh3.example.test/grace.png' });
    expect(profile.emailVerifiedAt).toBeInstanceOf(Date);
    const [link] = await em().find(OAuthAccount, { provider: 'google', providerAccountId: grace.sub });
    expect(link?.user.id).toBe((await caller.auth.me())?.id);
  });

  it('signs a returning account in and links a verified email to an existing account', async () => {
    asGoogle();
    const first = await signInWith('google');
    const second = await signInWith('google');
    expect((await (await callerOf(second.sessionId)).auth.me())?.id).toBe(
      (await (await callerOf(first.sessionId)).auth.me())?.id,
    );

    const existing = await verifiedPasswordUser();
    asGoogle({ email: existing.email });
    const linked = await signInWith('google');
    await expect((await callerOf(linked.sessionId)).auth.me()).resolves.toMatchObject({ id: existing.id });
    expect(await linksOf(existing.id)).toEqual(['google']);
  });

  it('does not link an unverified Google email to an existing account', async () => {
    const existing = await verifiedPasswordUser();
    asGoogle({ email: existing.email, email_verified: false });
    const { location, sessionId } = await signInWith('google');
    expect(location.searchParams.get('oauth_error')).toBe('email_in_use');
    expect(sessionId).toBeNull();
    expect(await linksOf(existing.id)).toEqual([]);
  });

  it('refuses a mismatched PKCE verifier: the provider rejects the code exchange', async () => {
    asGoogle();
    const ua = browser();
    const callback = await throughProvider(ua, 'google');
    ua.appJar.store(
      new Response(null, { headers: { 'set-cookie': `forgeline_oauth_verifier=${'A'.repeat(43)}; Path=/` } }),
    );
    const users = await em().count(User, {});
    const consumed = google.codesConsumed;
    const hop = await ua.get(callback);
    expect(new URL(hop.location ?? '', server.baseUrl).searchParams.get('oauth_error')).toBe(
      'provider_failed',
    );
    expect(ua.appJar.get('forgeline_session')).toBeUndefined();
    expect(await em().count(User, {})).toBe(users);
    expect(google.codesConsumed).toBe(consumed);
  });

  it('refuses a replayed authorization code', async () => {
    asGoogle();
    const ua = browser();
    const callback = await throughProvider(ua, 'google');
    const state = ua.appJar.get('forgeline_oauth_state') ?? '';
    const verifier = ua.appJar.get('forgeline_oauth_verifier') ?? '';
    const first = await ua.get(callback);
    expect(new URL(first.location ?? '', server.baseUrl).pathname).toBe('/');

    const replayer = browser();
    for (const cookie of [`forgeline_oauth_state=${state}`, `forgeline_oauth_verifier=${verifier}`]) {
      replayer.appJar.store(new Response(null, { headers: { 'set-cookie': `${cookie}; Path=/` } }));
    }
    const hop = await replayer.get(callback);
    expect(new URL(hop.location ?? '', server.baseUrl).searchParams.get('oauth_error')).toBe(
      'provider_failed',
    );
    expect(replayer.appJar.get('forgeline_session')).toBeUndefined();
  });

  it('refuses a tampered state', async () => {
    asGoogle();
    const ua = browser();
    const callback = new URL(await throughProvider(ua, 'google'));
    callback.searchParams.set('state', 'forged-state-value');
    const consumed = google.codesConsumed;
    const hop = await ua.get(callback.toString());
    expect(new URL(hop.location ?? '', server.baseUrl).searchParams.get('oauth_error')).toBe(
      'state_mismatch',
    );
    expect(google.codesConsumed).toBe(consumed);
  });
});

describe('the Google client against a provider that keeps claims out of the ID token', () => {
  it('verifies the ID token and takes email and profile from userinfo', async () => {
    const conforming = await startFakeGoogle({ idTokenClaims: 'conform' });
    try {
      const callback = `${PUBLIC_URL}/auth/oauth/google/callback`;
      await conforming.register(callback);
      const account = googleAccount({ name: 'Userinfo User' });
      conforming.signIn(account);
      const config = loadConfig({
        NODE_ENV: 'test',
        PUBLIC_URL,
        GOOGLE_CLIENT_ID: conforming.clientId,
        GOOGLE_CLIENT_SECRET: conforming.clientSecret,
        GOOGLE_ISSUER: conforming.url,
      });
      const client = providerClients(config).get('google');
      if (!client) throw new Error('google is configured');
      const verifier = generateCodeVerifier();
      const authorize = await client.authorizationUrl('some-state', verifier);
      const back = new URL(
        await browser().followUntil(authorize.toString(), (url) => url.pathname.endsWith('/callback')),
      );
      const code = back.searchParams.get('code') ?? '';
      await expect(client.profile(code, verifier)).resolves.toEqual({
        provider: 'google',
        providerAccountId: account.sub,
        email: account.email,
        emailVerified: true,
        name: 'Userinfo User',
        username: null,
        avatarUrl: null,
      });
      // The same code again: refused by the provider, surfaced as a ProviderError.
      await expect(client.profile(code, verifier)).rejects.toBeInstanceOf(ProviderError);
    } finally {
      await conforming.close();
    }
  });
});

describe('linking while signed in', () => {
  async function signedInPasswordUser() {
    const user = await createUser(db);
    const ua = browser();
    const anonymous = callerFor(db, null);
    await anonymous.auth.signIn({ email: user.email, password: user.password });
    const cookie = anonymous.cookies.at(-1) ?? '';
    ua.appJar.store(new Response(null, { headers: { 'set-cookie': cookie } }));
    return { user, ua };
  }

  it('links GitHub and Google to the signed-in user whatever their emails, then lists them', async () => {
    const { user, ua } = await signedInPasswordUser();
    asGitHub();
    const linked = await signInWith('github', ua);
    expect(`${linked.location.pathname}${linked.location.search}`).toBe('/settings?linked=github');
    asGoogle();
    await signInWith('google', ua);
    const caller = await callerOf(ua.appJar.get('forgeline_session') ?? null);
    expect(await caller.auth.me()).toMatchObject({ id: user.id });
    const list = await caller.account.oauth.list();
    expect(list.map((a) => a.provider).sort()).toEqual(['github', 'google']);
    expect(list[0]?.linkedAt).toBeInstanceOf(Date);
  });

  it('refuses a provider account already linked to someone else, and a second account of one provider', async () => {
    const someone = asGitHub();
    await signInWith('github');
    const { user, ua } = await signedInPasswordUser();
    github.signIn(someone);
    const taken = await signInWith('github', ua);
    expect(`${taken.location.pathname}?${taken.location.searchParams}`).toBe(
      '/settings?oauth_error=linked_to_other_user&provider=github',
    );
    asGitHub();
    await signInWith('github', ua);
    asGitHub();
    const second = await signInWith('github', ua);
    expect(second.location.searchParams.get('oauth_error')).toBe('provider_already_linked');
    expect(await linksOf(user.id)).toEqual(['github']);
  });
});

describe('account.oauth.unlink and password-less accounts', () => {
  it('refuses to unlink the last way to sign in, allows it once another way exists', async () => {
    asGoogle();
    const { ua, sessionId } = await signInWith('google');
    const caller = await callerOf(sessionId);
    const refused = await failureOf(caller.account.oauth.unlink({ provider: 'google' }));
    expect(refused.code).toBe('CONFLICT');
    expect(refused.message).toMatch(/only way to sign in/);
    expect(await linksOf((await caller.auth.me())?.id ?? '')).toEqual(['google']);

    asGitHub();
    await signInWith('github', ua);
    await expect(caller.account.oauth.unlink({ provider: 'google' })).resolves.toEqual({ ok: true });
    expect(await codeOf(caller.account.oauth.unlink({ provider: 'github' }))).toBe('CONFLICT');
    expect(await codeOf(caller.account.oauth.unlink({ provider: 'google' }))).toBe('NOT_FOUND');
  });

  it('lets exactly one of two racing unlinks through when they are the only two ways in', async () => {
    asGoogle();
    const { ua, sessionId } = await signInWith('google');
    asGitHub();
    await signInWith('github', ua);
    const caller = await callerOf(sessionId);
    const userId = (await caller.auth.me())?.id ?? '';
    // Make the race certain: another connection holds the two link rows, so both unlinks get
    // past whatever they read before they delete — unless the user-row lock orders them.
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    try {
      await blocker.query('begin');
      await blocker.query('select id from oauth_accounts where user_id = $1 for update', [userId]);
      const racing = Promise.allSettled([
        caller.account.oauth.unlink({ provider: 'google' }),
        caller.account.oauth.unlink({ provider: 'github' }),
      ]);
      await waitFor(() => lockWaiters(blocker).then((n) => n >= 2), {
        what: 'both unlinks waiting on a lock',
      });
      await blocker.query('commit');
      const results = await racing;
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    } finally {
      await blocker.end();
    }
    expect(await linksOf(userId)).toHaveLength(1);
  });

  it('unlinks freely when the account has a password', async () => {
    const user = await verifiedPasswordUser();
    asGitHub({ emails: [{ email: user.email, primary: true, verified: true }] });
    const { sessionId } = await signInWith('github');
    const caller = await callerOf(sessionId);
    await expect(caller.account.oauth.unlink({ provider: 'github' })).resolves.toEqual({ ok: true });
    await expect(caller.account.oauth.list()).resolves.toEqual([]);
  });

  it('answers bad input with BAD_REQUEST', async () => {
    const caller = callerFor(db, await createUser(db));
    const failure = await failureOf(caller.account.oauth.unlink({ provider: 'facebook' as 'github' }));
    expect(failure.code).toBe('BAD_REQUEST');
  });

  it('tells a password-less account how to get a password instead of "wrong password"', async () => {
    const account = asGoogle();
    const { sessionId } = await signInWith('google');
    const caller = await callerOf(sessionId);
    const change = await failureOf(
      caller.auth.changePassword({ currentPassword: 'anything', newPassword: 'a long new password' }),
    );
    expect(change.code).toBe('BAD_REQUEST');
    expect(change.data.fieldErrors?.currentPassword?.[0]).toMatch(/no password yet/);
    const deactivate = await failureOf(caller.account.deactivate({ password: 'anything' }));
    expect(deactivate.data.fieldErrors?.password?.[0]).toMatch(/no password yet/);
    // A password sign-in of a password-less account is a plain wrong password.
    expect(await codeOf(callerFor(db, null).auth.signIn({ email: account.email, password: 'x' }))).toBe(
      'UNAUTHORIZED',
    );

    // The reset email sets the first password; the Google link stays (the email was verified).
    const anonymous = callerFor(db, null);
    await anonymous.auth.requestPasswordReset({ email: account.email });
    const [mail] = await em().find(
      MailOutbox,
      { to: account.email },
      { orderBy: { createdAt: 'desc' }, limit: 1 },
    );
    const token = /token=([\w-]+)/.exec(mail?.body ?? '')?.[1] ?? '';
    await anonymous.auth.resetPassword({ token, password: 'my first password' });
    await callerFor(db, null).auth.signIn({ email: account.email, password: 'my first password' });
    const me = await em().findOneOrFail(User, { email: account.email });
    expect(await linksOf(me.id)).toEqual(['google']);
  });
});
