// Rate limits on sign-in, sign-up, password reset and verification mail (spec §11): counted in
// PostgreSQL outside the procedure's transaction, exact under concurrency, TOO_MANY_REQUESTS past
// the limit, and nothing written by a refused request.
import { describe, expect, it } from 'vitest';
import { User } from '../../server/modules/identity/user.entity.ts';
import { MailOutbox } from '../../server/modules/mail/mail-outbox.entity.ts';
import {
  createRateLimiter,
  RATE_LIMITS,
  type RateLimitName,
} from '../../server/modules/rate-limits/rate-limits.service.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { codeOf, failureOf } from '../support/errors.ts';
import { createUser, uniqueEmail } from '../support/factories.ts';
import { httpClient, setupTestServer } from '../support/http.ts';

const db = setupTestDatabase();
const server = setupTestServer(db);
const em = () => db.orm.em.fork();

/** Uses up `count` of a limit's budget for a subject, as that many earlier requests would have. */
async function spend(name: RateLimitName, subject: string, count: number) {
  const limits = createRateLimiter(em());
  for (let i = 0; i < count; i++) await limits.consume(name, subject);
}
const from = (ip: string) => callerFor(db, null, { client: { ip, userAgent: 'test' } });

describe('failed sign-ins per account', () => {
  const limit = RATE_LIMITS.failedSignInsPerAccount.limit;

  it(`allows at most ${limit} failed sign-ins per hour, exactly, even when they arrive together`, async () => {
    const user = await createUser(db);
    await spend('failedSignInsPerAccount', user.email, limit - 5);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () =>
        callerFor(db, null).auth.signIn({ email: user.email, password: 'wrong password!' }),
      ),
    );
    const codes = results.map((result) =>
      result.status === 'rejected' ? (result.reason as { code: string }).code : 'OK',
    );
    expect(codes.filter((code) => code === 'UNAUTHORIZED')).toHaveLength(5);
    expect(codes.filter((code) => code === 'TOO_MANY_REQUESTS')).toHaveLength(15);

    // The right password no longer helps this hour; another account is not affected.
    const refused = await failureOf(
      callerFor(db, null).auth.signIn({ email: user.email, password: user.password }),
    );
    expect(refused.code).toBe('TOO_MANY_REQUESTS');
    expect(refused.message).toMatch(/Too many failed sign-ins for this account; try again in \d+ minutes?/);
    const other = await createUser(db);
    await expect(
      callerFor(db, null).auth.signIn({ email: other.email, password: other.password }),
    ).resolves.toMatchObject({
      email: other.email,
    });
  });

  it('does not count successful sign-ins, and counts failures although their transaction rolls back', async () => {
    const user = await createUser(db);
    await spend('failedSignInsPerAccount', user.email, limit - 1);
    for (let i = 0; i < 3; i++) {
      await expect(
        callerFor(db, null).auth.signIn({ email: user.email, password: user.password }),
      ).resolves.toBeTruthy();
    }
    expect(
      await codeOf(callerFor(db, null).auth.signIn({ email: user.email, password: 'wrong password!' })),
    ).toBe('UNAUTHORIZED');
    expect(
      await codeOf(callerFor(db, null).auth.signIn({ email: user.email, password: user.password })),
    ).toBe('TOO_MANY_REQUESTS');
  });

  it('limits unknown emails the same way (no difference that reveals an account)', async () => {
    const email = uniqueEmail('nobody');
    await spend('failedSignInsPerAccount', email, limit);
    expect(await codeOf(callerFor(db, null).auth.signIn({ email, password: 'whatever it is' }))).toBe(
      'TOO_MANY_REQUESTS',
    );
  });
});

describe('per-IP limits', () => {
  it('refuses sign-ups past the limit from one address and creates nothing', async () => {
    const ip = '203.0.113.10';
    await spend('signUpPerIp', ip, RATE_LIMITS.signUpPerIp.limit - 1);
    await expect(
      from(ip).auth.signUp({ email: uniqueEmail(), password: 'a long enough password', name: 'Last' }),
    ).resolves.toBeTruthy();
    const email = uniqueEmail('refused');
    const refused = await failureOf(
      from(ip).auth.signUp({ email, password: 'a long enough password', name: 'Refused' }),
    );
    expect(refused.code).toBe('TOO_MANY_REQUESTS');
    expect(await em().count(User, { email })).toBe(0);
    await expect(
      from('203.0.113.11').auth.signUp({ email, password: 'a long enough password', name: 'Elsewhere' }),
    ).resolves.toBeTruthy();
  });

  it('refuses sign-in attempts past the limit from one address', async () => {
    const user = await createUser(db);
    const ip = '203.0.113.20';
    await spend('signInPerIp', ip, RATE_LIMITS.signInPerIp.limit);
    expect(await codeOf(from(ip).auth.signIn({ email: user.email, password: user.password }))).toBe(
      'TOO_MANY_REQUESTS',
    );
    await expect(
      from('203.0.113.21').auth.signIn({ email: user.email, password: user.password }),
    ).resolves.toBeTruthy();
  });
});

describe('password reset and verification mail', () => {
  it(`sends at most ${RATE_LIMITS.passwordResetPerEmail.limit} reset mails per email per hour`, async () => {
    const user = await createUser(db);
    for (let i = 0; i < RATE_LIMITS.passwordResetPerEmail.limit; i++) {
      await callerFor(db, null).auth.requestPasswordReset({ email: user.email });
    }
    expect(await codeOf(callerFor(db, null).auth.requestPasswordReset({ email: user.email }))).toBe(
      'TOO_MANY_REQUESTS',
    );
    expect(await em().count(MailOutbox, { to: user.email })).toBe(RATE_LIMITS.passwordResetPerEmail.limit);
  });

  it('limits verification mails per user', async () => {
    const user = await createUser(db);
    await spend('emailVerificationPerUser', user.id, RATE_LIMITS.emailVerificationPerUser.limit);
    expect(await codeOf(callerFor(db, user).auth.requestEmailVerification())).toBe('TOO_MANY_REQUESTS');
    expect(await em().count(MailOutbox, { to: user.email })).toBe(0);
  });
});

describe('over HTTP', () => {
  it('answers 429 with the TOO_MANY_REQUESTS code, keyed on the client address', async () => {
    const user = await createUser(db);
    await spend('signInPerIp', '127.0.0.1', RATE_LIMITS.signInPerIp.limit);
    const { client } = httpClient(server);
    await expect(
      client.auth.signIn.mutate({ email: user.email, password: user.password }),
    ).rejects.toMatchObject({
      data: { code: 'TOO_MANY_REQUESTS', httpStatus: 429 },
    });
  });
});
