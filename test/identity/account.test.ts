// Account flows (verification, reset, password change, sessions, profile, deactivation) and API
// keys through the real HTTP app: bearer authentication, scopes, revocation, expiry.
import { describe, expect, it } from 'vitest';
import { ApiKey } from '../../server/modules/identity/api-key.entity.ts';
import { MailOutbox } from '../../server/modules/mail/mail-outbox.entity.ts';
import { callerFor, callerForSession, sessionIdFrom } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { codeOf, failureOf } from '../support/errors.ts';
import { createUser, type TestUser } from '../support/factories.ts';
import { httpClient, setupTestServer } from '../support/http.ts';

const db = setupTestDatabase();
const server = setupTestServer(db);
const em = () => db.orm.em.fork();

async function lastMailTo(email: string) {
  const [mail] = await em().find(MailOutbox, { to: email }, { orderBy: { createdAt: 'desc' }, limit: 1 });
  return mail ?? null;
}
const tokenIn = (body: string) => /token=([A-Za-z0-9_-]+)/.exec(body)?.[1] as string;

async function sessionOf(user: TestUser) {
  const caller = callerFor(db, null);
  await caller.auth.signIn({ email: user.email, password: user.password });
  return sessionIdFrom(caller.cookies) as string;
}
/** A caller for a session, authenticated now (as each HTTP request is). */
const as = (sessionId: string) => callerForSession(db, sessionId);
const signedIn = async (user: TestUser) => as(await sessionOf(user));

describe('email verification', () => {
  it('mails a single-use link that verifies the address once', async () => {
    const user = await createUser(db);
    const caller = await signedIn(user);
    await expect(caller.auth.requestEmailVerification()).resolves.toEqual({ sent: true });
    const token = tokenIn((await lastMailTo(user.email))?.body ?? '');
    await expect(callerFor(db, null).auth.verifyEmail({ token })).resolves.toEqual({ ok: true });
    expect(await codeOf(callerFor(db, null).auth.verifyEmail({ token }))).toBe('BAD_REQUEST');
    await expect(caller.auth.requestEmailVerification()).resolves.toEqual({ sent: false });
  });
});

describe('password reset', () => {
  it('does not reveal whether an email exists', async () => {
    const before = await em().count(MailOutbox, {});
    await expect(
      callerFor(db, null).auth.requestPasswordReset({ email: 'nobody@example.test' }),
    ).resolves.toEqual({ ok: true });
    expect(await em().count(MailOutbox, {})).toBe(before);
  });

  it('resets once with the mailed token, ending every old session and signing in anew', async () => {
    const user = await createUser(db);
    const old = await sessionOf(user);
    await callerFor(db, null).auth.requestPasswordReset({ email: user.email.toUpperCase() });
    const token = tokenIn((await lastMailTo(user.email))?.body ?? '');
    const resetter = callerFor(db, null);
    await resetter.auth.resetPassword({ token, password: 'a brand new password' });
    expect(sessionIdFrom(resetter.cookies)).toBeTruthy();
    expect(await codeOf((await as(old)).credits.balance())).toBe('UNAUTHORIZED');
    await expect(
      callerFor(db, null).auth.signIn({ email: user.email, password: 'a brand new password' }),
    ).resolves.toMatchObject({ id: user.id });
    expect(
      (await failureOf(callerFor(db, null).auth.resetPassword({ token, password: 'yet another password' })))
        .code,
    ).toBe('BAD_REQUEST');
  });

  it('refuses an expired token and a short password', async () => {
    const user = await createUser(db);
    await callerFor(db, null).auth.requestPasswordReset({ email: user.email });
    const token = tokenIn((await lastMailTo(user.email))?.body ?? '');
    expect(
      (await failureOf(callerFor(db, null).auth.resetPassword({ token, password: 'short' }))).data
        ?.fieldErrors,
    ).toHaveProperty('password');
    await em().execute("update auth_tokens set expires_at = now() - interval '1 second' where user_id = ?", [
      user.id,
    ]);
    expect(
      (await failureOf(callerFor(db, null).auth.resetPassword({ token, password: 'long enough password' })))
        .code,
    ).toBe('BAD_REQUEST');
  });
});

describe('password change, sessions, profile, deactivation', () => {
  it('changes the password with the current one, ending the other sessions', async () => {
    const user = await createUser(db);
    const first = await signedIn(user);
    const second = await sessionOf(user);
    expect(
      (
        await failureOf(
          first.auth.changePassword({ currentPassword: 'wrong', newPassword: 'another long password' }),
        )
      ).data?.fieldErrors,
    ).toHaveProperty('currentPassword');
    await first.auth.changePassword({ currentPassword: user.password, newPassword: 'another long password' });
    expect(await codeOf((await as(second)).credits.balance())).toBe('UNAUTHORIZED');
    expect(sessionIdFrom(first.cookies)).toBeTruthy(); // the caller got a fresh session
  });

  it('revokes every other session and keeps the current one', async () => {
    const user = await createUser(db);
    const current = await sessionOf(user);
    const other = await sessionOf(user);
    await expect((await as(current)).auth.sessions.revokeOthers()).resolves.toEqual({ revoked: 1 });
    expect(await codeOf((await as(other)).credits.balance())).toBe('UNAUTHORIZED');
    await expect((await as(current)).credits.balance()).resolves.toBeTruthy();
  });

  it('updates the profile and deactivates the account (ending its sessions)', async () => {
    const user = await createUser(db);
    const session = await sessionOf(user);
    const caller = await as(session);
    await expect(
      caller.account.update({ name: 'Ada L.', firstName: 'Ada', lastName: 'Lovelace' }),
    ).resolves.toMatchObject({ name: 'Ada L.', firstName: 'Ada' });
    expect(await codeOf(caller.account.update({ avatarUrl: 'javascript:alert(1)' }))).toBe('BAD_REQUEST');
    expect(await codeOf(caller.account.deactivate({ password: 'nope' }))).toBe('BAD_REQUEST');
    await caller.account.deactivate({ password: user.password });
    expect(await codeOf((await as(session)).credits.balance())).toBe('UNAUTHORIZED');
    expect(
      await codeOf(callerFor(db, null).auth.signIn({ email: user.email, password: user.password })),
    ).toBe('FORBIDDEN');
  });
});

describe('API keys', () => {
  it('shows the secret once and stores only its hash', async () => {
    const user = await createUser(db);
    const caller = await signedIn(user);
    const created = await caller.apiKeys.create({ name: 'CI', scopes: ['read'] });
    expect(created.secret).toMatch(/^fl_/);
    const listed = await caller.apiKeys.list();
    expect(listed).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(created.secret);
    expect(listed[0]?.prefix).toBe(created.secret.slice(0, 10));
    const row = await em().findOneOrFail(ApiKey, { id: created.id });
    expect(row.hash).not.toContain(created.secret);
  });

  it('authenticates a bearer over HTTP within its scopes, without the CSRF header', async () => {
    const user = await createUser(db, { credits: 20 });
    const caller = await signedIn(user);
    const readOnly = await caller.apiKeys.create({ name: 'dashboards', scopes: ['read'] });
    const generator = await caller.apiKeys.create({ name: 'bot', scopes: ['generations:write'] });
    const reader = httpClient(server, { apiKey: readOnly.secret, csrf: false }).client;
    await expect(reader.credits.balance.query()).resolves.toMatchObject({ balance: 20 });
    await expect(
      reader.generations.create.mutate({ kind: 'text', input: { prompt: 'a haiku' } }),
    ).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
    const bot = httpClient(server, { apiKey: generator.secret, csrf: false }).client;
    await expect(
      bot.generations.create.mutate({ kind: 'text', input: { prompt: 'a haiku' } }),
    ).resolves.toMatchObject({ status: 'queued' });
    await expect(
      bot.generations.remove.mutate({ id: '00000000-0000-7000-8000-000000000000' }),
    ).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
    // generations:write is generations.create and nothing else: a project's generation moves the
    // project, which needs `write`; nothing was charged or queued for the refused call.
    const project = await caller.projects.create({ name: 'Scoped', template: 'saas' });
    await expect(
      bot.projects.generate.mutate({ projectId: project.id, agentType: 'backend' }),
    ).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
    await expect(caller.projects.get({ projectId: project.id })).resolves.toMatchObject({ status: 'draft' });
    // Keys cannot manage keys, passwords or sessions, whatever their scopes.
    await expect(bot.apiKeys.create.mutate({ name: 'x', scopes: ['write'] })).rejects.toMatchObject({
      data: { code: 'FORBIDDEN' },
    });
    await expect(reader.admin.users.list.query({})).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
    const used = await em().findOneOrFail(ApiKey, { id: readOnly.id });
    expect(used.lastUsedAt).toBeInstanceOf(Date);
  });

  it('stops working once revoked or expired; admin scope only for administrators', async () => {
    const user = await createUser(db);
    const caller = await signedIn(user);
    const key = await caller.apiKeys.create({ name: 'temp', scopes: ['read'] });
    const client = httpClient(server, { apiKey: key.secret }).client;
    await expect(client.credits.balance.query()).resolves.toBeTruthy();
    await caller.apiKeys.revoke({ id: key.id });
    await expect(client.credits.balance.query()).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    const expiring = await caller.apiKeys.create({
      name: 'soon',
      scopes: ['read'],
      expiresAt: new Date(Date.now() + 60_000),
    });
    await em().execute("update api_keys set expires_at = now() - interval '1 second' where id = ?", [
      expiring.id,
    ]);
    await expect(
      httpClient(server, { apiKey: expiring.secret }).client.credits.balance.query(),
    ).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    expect(await codeOf(caller.apiKeys.create({ name: 'root', scopes: ['admin'] }))).toBe('FORBIDDEN');
    expect(await codeOf(callerFor(db, await createUser(db)).apiKeys.revoke({ id: key.id }))).toBe(
      'NOT_FOUND',
    );

    const admin = await createUser(db, { role: 'admin' });
    const adminKey = await (await signedIn(admin)).apiKeys.create({ name: 'ops', scopes: ['admin'] });
    const ops = httpClient(server, { apiKey: adminKey.secret }).client;
    await expect(ops.admin.users.list.query({ search: user.email })).resolves.toMatchObject({ total: 1 });
  });
});
