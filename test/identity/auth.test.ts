import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Session } from '../../server/modules/identity/session.entity.ts';
import { User } from '../../server/modules/identity/user.entity.ts';
import { callerFor, callerForSession, sessionIdFrom } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { codeOf, failureOf } from '../support/errors.ts';
import { createUser, uniqueEmail } from '../support/factories.ts';

const db = setupTestDatabase();
const password = 'a long enough password';

async function signUp(email = uniqueEmail()) {
  const anonymous = callerFor(db, null);
  const me = await anonymous.auth.signUp({ email, password, name: 'Ada Lovelace' });
  const sessionId = sessionIdFrom(anonymous.cookies);
  if (!sessionId) throw new Error('sign-up set no session cookie');
  return { me, sessionId, email };
}

describe('auth.signUp', () => {
  it('creates the user, their balance and the sign-up bonus, and signs them in', async () => {
    const { me, sessionId } = await signUp();
    const caller = await callerForSession(db, sessionId);
    await expect(caller.auth.me()).resolves.toEqual(me);
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 100, totalGranted: 100 });
    const { items } = await caller.credits.transactions({});
    expect(items).toMatchObject([{ type: 'signup_bonus', amount: 100, balanceAfter: 100, seq: 1 }]);
  });

  it('sets an HttpOnly, SameSite=Lax session cookie', async () => {
    const anonymous = callerFor(db, null);
    await anonymous.auth.signUp({ email: uniqueEmail(), password, name: 'Cookie' });
    expect(anonymous.cookies.at(-1)).toMatch(/^forgeline_session=\w+;.*HttpOnly.*SameSite=Lax/);
  });

  it('answers a taken email — in any letter case — with CONFLICT on the email field, adding nothing', async () => {
    const { email } = await signUp();
    const failure = await failureOf(
      callerFor(db, null).auth.signUp({ email: email.toUpperCase(), password, name: 'Again' }),
    );
    expect(failure.code).toBe('CONFLICT');
    expect(failure.data.fieldErrors).toHaveProperty('email');
    expect(await db.orm.em.fork().count(User, { email })).toBe(1);
  });

  it.each([
    [{ email: 'not-an-email', password, name: 'X' }, 'email'],
    [{ email: uniqueEmail(), password: 'short', name: 'X' }, 'password'],
    [{ email: uniqueEmail(), password, name: '' }, 'name'],
    [{ email: uniqueEmail(), password }, 'name'],
  ])('rejects %j with BAD_REQUEST on %s and creates nothing', async (input, field) => {
    const before = await db.orm.em.fork().count(User, {});
    // biome-ignore lint/suspicious/noExplicitAny: deliberately invalid input
    const failure = await failureOf(callerFor(db, null).auth.signUp(input as any));
    expect(failure.code).toBe('BAD_REQUEST');
    expect(failure.data.fieldErrors).toHaveProperty(field);
    expect(await db.orm.em.fork().count(User, {})).toBe(before);
  });
});

describe('auth.signIn', () => {
  it('signs in with the right password and issues a new session each time', async () => {
    const user = await createUser(db, { password });
    const first = callerFor(db, null);
    await first.auth.signIn({ email: user.email, password });
    const second = callerFor(db, null);
    await second.auth.signIn({ email: user.email.toUpperCase(), password });
    const a = sessionIdFrom(first.cookies);
    const b = sessionIdFrom(second.cookies);
    expect(a).toBeTruthy();
    expect(a).not.toBe(b);
    const caller = await callerForSession(db, a as string);
    await expect(caller.auth.me()).resolves.toMatchObject({ id: user.id, email: user.email });
  });

  it('answers a wrong password and an unknown email with the same UNAUTHORIZED message', async () => {
    const user = await createUser(db, { password });
    const wrong = await failureOf(
      callerFor(db, null).auth.signIn({ email: user.email, password: 'not it at all' }),
    );
    const unknown = await failureOf(callerFor(db, null).auth.signIn({ email: uniqueEmail(), password }));
    expect(wrong.code).toBe('UNAUTHORIZED');
    expect(unknown.code).toBe('UNAUTHORIZED');
    expect(unknown.message).toBe(wrong.message);
  });

  it('takes comparable time for an unknown email as for a wrong password (no account probing)', async () => {
    const user = await createUser(db, { password });
    const timeOf = async (email: string) => {
      const started = performance.now();
      await failureOf(callerFor(db, null).auth.signIn({ email, password: 'wrong wrong wrong' }));
      return performance.now() - started;
    };
    const median = (values: number[]) => values.sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? 0;
    const wrong: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) {
      wrong.push(await timeOf(user.email));
      unknown.push(await timeOf(uniqueEmail()));
    }
    // Both run one argon2id verification; without the dummy hash, "unknown" would be ~50x faster.
    expect(median(unknown)).toBeGreaterThan(median(wrong) * 0.3);
  });

  it('refuses a banned account even with the right password', async () => {
    const user = await createUser(db, { password });
    await db.orm.em.fork().nativeUpdate(User, { id: user.id }, { status: 'banned' });
    const failure = await failureOf(callerFor(db, null).auth.signIn({ email: user.email, password }));
    expect(failure.code).toBe('FORBIDDEN');
  });

  it('rejects a missing password with BAD_REQUEST', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: deliberately invalid input
    const failure = await failureOf(callerFor(db, null).auth.signIn({ email: uniqueEmail() } as any));
    expect(failure.code).toBe('BAD_REQUEST');
    expect(failure.data.fieldErrors).toHaveProperty('password');
  });
});

describe('sessions', () => {
  it('stores only the SHA-256 hash of a session id', async () => {
    const { me, sessionId } = await signUp();
    const rows = await db.orm.em.fork().find(Session, { user: me.id });
    expect(rows.map((row) => row.id)).toEqual([createHash('sha256').update(sessionId).digest('hex')]);
    expect(rows.some((row) => row.id === sessionId)).toBe(false);
  });

  it('signOut ends the session and clears the cookie', async () => {
    const { sessionId } = await signUp();
    const caller = await callerForSession(db, sessionId);
    await caller.auth.signOut();
    expect(caller.cookies.at(-1)).toMatch(/^forgeline_session=;.*Max-Age=0/);
    const after = await callerForSession(db, sessionId);
    await expect(after.auth.me()).resolves.toBeNull();
  });

  it('lists the caller’s sessions, marks the current one, and revokes another', async () => {
    const { email, sessionId } = await signUp();
    const other = callerFor(db, null);
    await other.auth.signIn({ email, password });
    const otherId = sessionIdFrom(other.cookies) as string;

    const caller = await callerForSession(db, sessionId);
    const sessions = await caller.auth.sessions.list();
    expect(sessions).toHaveLength(2);
    const current = sessions.find((s) => s.current);
    const notCurrent = sessions.find((s) => !s.current);
    expect(current?.id).toBe(createHash('sha256').update(sessionId).digest('hex'));
    await caller.auth.sessions.revoke({ id: notCurrent?.id as string });
    await expect((await callerForSession(db, otherId)).auth.me()).resolves.toBeNull();
    await expect(caller.auth.sessions.list()).resolves.toHaveLength(1);
  });

  it("cannot revoke another user's session: NOT_FOUND", async () => {
    const alice = await signUp();
    const bob = await signUp();
    const bobHandle = createHash('sha256').update(bob.sessionId).digest('hex');
    const caller = await callerForSession(db, alice.sessionId);
    const failure = await failureOf(caller.auth.sessions.revoke({ id: bobHandle }));
    expect(failure.code).toBe('NOT_FOUND');
    await expect((await callerForSession(db, bob.sessionId)).auth.me()).resolves.not.toBeNull();
  });

  it('rejects a malformed session handle with BAD_REQUEST', async () => {
    const { sessionId } = await signUp();
    const caller = await callerForSession(db, sessionId);
    const failure = await failureOf(caller.auth.sessions.revoke({ id: 'nope' }));
    expect(failure.code).toBe('BAD_REQUEST');
    expect(failure.data.fieldErrors).toHaveProperty('id');
  });

  it('refuses anonymous callers', async () => {
    expect(await codeOf(callerFor(db, null).auth.sessions.list())).toBe('UNAUTHORIZED');
  });

  it('slides the expiry when half the window has passed, but never beyond the 90-day cap', async () => {
    const { sessionId } = await signUp();
    const hash = createHash('sha256').update(sessionId).digest('hex');
    const day = 24 * 60 * 60 * 1000;
    const em = db.orm.em.fork();
    // 20 days old with 10 days left: due for sliding.
    await em.nativeUpdate(
      Session,
      { id: hash },
      { createdAt: new Date(Date.now() - 20 * day), expiresAt: new Date(Date.now() + 10 * day) },
    );
    const refreshed = await callerForSession(db, sessionId);
    expect(refreshed.cookies.at(-1)).toMatch(/^forgeline_session=\w+/);
    const slid = await db.orm.em.fork().findOneOrFail(Session, { id: hash });
    expect(slid.expiresAt.getTime()).toBeGreaterThan(Date.now() + 29 * day);

    // 89 days old: sliding may add at most one more day.
    await em.nativeUpdate(
      Session,
      { id: hash },
      { createdAt: new Date(Date.now() - 89 * day), expiresAt: new Date(Date.now() + 5 * day) },
    );
    await callerForSession(db, sessionId);
    const capped = await db.orm.em.fork().findOneOrFail(Session, { id: hash });
    expect(capped.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + day + 1000);

    // 91 days old: over the cap, whatever expires_at says.
    await em.nativeUpdate(
      Session,
      { id: hash },
      { createdAt: new Date(Date.now() - 91 * day), expiresAt: new Date(Date.now() + 5 * day) },
    );
    await expect((await callerForSession(db, sessionId)).auth.me()).resolves.toBeNull();
  });

  it('gives a banned user no session', async () => {
    const { me, sessionId } = await signUp();
    await db.orm.em.fork().nativeUpdate(User, { id: me.id }, { status: 'banned' });
    await expect((await callerForSession(db, sessionId)).auth.me()).resolves.toBeNull();
  });
});

describe('CSRF', () => {
  it('refuses a cookie-authenticated mutation without the x-csrf-protection header', async () => {
    const { sessionId } = await signUp();
    const caller = await callerForSession(db, sessionId, { csrfHeader: false });
    const failure = await failureOf(caller.auth.signOut());
    expect(failure.code).toBe('FORBIDDEN');
    await expect((await callerForSession(db, sessionId)).auth.me()).resolves.not.toBeNull();
  });

  it('lets queries through without it', async () => {
    const { sessionId } = await signUp();
    const caller = await callerForSession(db, sessionId, { csrfHeader: false });
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 100 });
  });
});
