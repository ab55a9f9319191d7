// Monthly statements (credits.statement, admin.credits.statement): a ledger built by real operations
// — sign-up bonus, purchases and subscription credits through signed Stripe events, generations
// (held, then captured or released), expirations, a refund clawback, a won dispute, admin adjustments — summed per UTC
// month; opening + Σ lines = closing, each month opening where the last one closed, and the current
// month closing at the balance. Rows written at a month's edge land in the month of their UTC time.
import { randomBytes } from 'node:crypto';
import { TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import { verifyInvariants } from '../../server/db/verify.ts';
import * as credits from '../../server/modules/credits/credits.service.ts';
import { completeRun, failRun, startRun } from '../../server/modules/generations/generations.service.ts';
import type { AppRouter } from '../../server/router.ts';
import { statementFileName, statementToCsv } from '../../shared/statement-csv.ts';
import {
  nowSeconds,
  postStripe,
  randomId,
  stripeCharge,
  stripeCheckoutSession,
  stripeDispute,
  stripeInvoice,
  stripeSubscription,
} from '../support/billing-events.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { failureOf } from '../support/errors.ts';
import { createPackage, createPlan, createUser, type TestUser, uniqueEmail } from '../support/factories.ts';
import { signedStripeEvent } from '../support/fake-stripe.ts';
import { httpClient, setupTestServer } from '../support/http.ts';

const SECRET = `whsec_${randomBytes(16).toString('hex')}`;
const db = setupTestDatabase({ env: { STRIPE_WEBHOOK_SECRET: SECRET } });
const server = setupTestServer(db);
const em = () => db.orm.em.fork();
const deliver = async (type: string, object: Record<string, unknown>, created = nowSeconds()) =>
  expect(await postStripe(server, signedStripeEvent(SECRET, type, object, { created }))).toBe(200);

const currentMonth = () => new Date().toISOString().slice(0, 7);
const seqOf = async (user: TestUser) =>
  Number(
    (
      await em().execute<{ ledger_seq: number }[]>(
        'select ledger_seq from credit_balances where user_id = ?',
        [user.id],
      )
    )[0]?.ledger_seq,
  );
/** Time travel for the ledger rows written since `afterSeq`: they happened at `at` (seq order kept). */
const dateRows = (user: TestUser, afterSeq: number, at: string) =>
  em().execute('update credit_transactions set created_at = ? where user_id = ? and seq > ?', [
    new Date(at),
    user.id,
    afterSeq,
  ]);

/** A generation that succeeded: its hold captured into one usage row (no worker runs here). */
const capture = async (id: string) => {
  await em().transactional((tx) => startRun(tx, id));
  await em().transactional((tx) =>
    completeRun(tx, id, { images: [], text: 'done', tokensUsed: 1, providerResponse: null }),
  );
};

type Statement = Awaited<ReturnType<ReturnType<typeof callerFor>['credits']['statement']>>;
const sumOfLines = (statement: Statement) => statement.lines.reduce((sum, line) => sum + line.amount, 0);
const line = (statement: Statement, section: string, key: string | null = null) =>
  statement.lines.find((l) => l.section === section && l.key === key);

function expectReconciles(statement: Statement) {
  expect(statement.openingBalance + sumOfLines(statement)).toBe(statement.closingBalance);
  expect(statement.closingBalance - statement.openingBalance).toBe(statement.credited - statement.debited);
}

describe('credits.statement', () => {
  it('sums a ledger of real operations per UTC month, each opening where the last closed', async () => {
    const user = await createUser(db); // sign-up bonus: 100
    const caller = callerFor(db, user);
    const pkg = await createPackage(db, { credits: 500, priceCents: 1000 });
    const plan = await createPlan(db, { creditsPerPeriod: 300 });

    // January: the sign-up bonus, a purchase, logo generations (one succeeds: its hold captured; one
    // fails: its hold released, no ledger row).
    const intent = randomId('pi');
    await deliver(
      'checkout.session.completed',
      stripeCheckoutSession(user.id, pkg.id, { paymentIntent: intent }),
    );
    const logo = { appName: 'Ledger', appFocus: 'bookkeeping', color1: '#111111', color2: '#eeeeee' };
    const kept = await caller.generations.create({ kind: 'logo', input: logo, outputCount: 2 });
    const failed = await caller.generations.create({ kind: 'logo', input: logo, outputCount: 3 });
    await capture(kept.id);
    await em().transactional((tx) => failRun(tx, failed.id, 'the provider failed'));
    await em().execute('update credit_holds set settled_at = ? where generation_id = ?', [
      new Date('2025-01-20T08:00:00.000Z'),
      failed.id,
    ]);
    // The last row of January, one millisecond before February (UTC).
    const janEnd = await seqOf(user);
    await dateRows(user, 0, '2025-01-15T12:00:00.000Z');
    const text = await caller.generations.create({ kind: 'text', input: { prompt: 'a tagline' } });
    await capture(text.id);
    await dateRows(user, janEnd, '2025-01-31T23:59:59.999Z');

    // February: subscription credits that expire, a text generation at the first instant, a
    // refund of half the purchase (clawback), an administrator's credit and debit.
    const febStart = await seqOf(user);
    await em().transactional((tx) => credits.spend(tx, user.id, 4, 'text_generation'));
    await dateRows(user, febStart, '2025-02-01T00:00:00.000Z');
    const febMid = await seqOf(user);
    const subId = randomId('sub');
    await deliver(
      'customer.subscription.created',
      stripeSubscription(user.id, subId, { planKey: plan.key }),
      nowSeconds() - 5,
    );
    await deliver('invoice.paid', stripeInvoice(subId, { paymentIntent: randomId('pi') }));
    await deliver('charge.refunded', stripeCharge(intent, { refunded: 500 }));
    const disputed = randomId('pi');
    await deliver(
      'checkout.session.completed',
      stripeCheckoutSession(user.id, pkg.id, { paymentIntent: disputed }),
    );
    const admin = await createUser(db, { role: 'admin' });
    await callerFor(db, admin).admin.credits.adjust({ userId: user.id, amount: 40, reason: 'goodwill' });
    await callerFor(db, admin).admin.credits.adjust({ userId: user.id, amount: -15, reason: 'correction' });
    await dateRows(user, febMid, '2025-02-14T09:30:00.000Z');

    // This month: the subscription credits expire, the dispute of the purchase is won.
    const nowStart = await seqOf(user);
    await em().transactional((tx) =>
      credits.grant(tx, user.id, 25, 'promo', { expiresAt: new Date(Date.now() + 1000) }),
    );
    await credits.expireGrants(em(), { now: new Date(Date.now() + 2000) });
    const dispute = randomId('dp');
    await deliver('charge.dispute.funds_withdrawn', stripeDispute(disputed, { id: dispute }));
    await deliver('charge.dispute.funds_reinstated', stripeDispute(disputed, { id: dispute, status: 'won' }));
    expect(await seqOf(user)).toBeGreaterThan(nowStart);

    const statementOf = (month: string) => caller.credits.statement({ month });
    const december = await statementOf('2024-12');
    const january = await statementOf('2025-01');
    const february = await statementOf('2025-02');
    const march = await statementOf('2025-03');
    const now = await statementOf(currentMonth());
    for (const statement of [december, january, february, march, now]) expectReconciles(statement);

    expect(december).toMatchObject({ openingBalance: 0, closingBalance: 0, lines: [], transactionCount: 0 });
    expect(january.from).toEqual(new Date('2025-01-01T00:00:00.000Z'));
    expect(january.to).toEqual(new Date('2025-02-01T00:00:00.000Z'));
    expect(january.openingBalance).toBe(0);
    expect(line(january, 'grants', 'signup_bonus')).toMatchObject({
      amount: 100,
      count: 1,
      label: 'Sign-up bonus',
    });
    expect(line(january, 'purchases')).toMatchObject({ amount: 500, count: 1 });
    // The logo generation that succeeded (2 outputs) and, at 23:59:59.999, the text one; the failed
    // one (3 outputs) is a released hold: listed with its credits, moving no balance.
    expect(line(january, 'usage', 'logo_generation')).toMatchObject({ amount: -2, count: 1 });
    expect(line(january, 'usage', 'text_generation')).toMatchObject({ amount: -1, count: 1 });
    expect(line(january, 'refunds', 'logo_generation')).toBeUndefined();
    expect(line(january, 'releases', 'logo_generation')).toMatchObject({
      amount: 0,
      released: 3,
      count: 1,
      label: 'Logo generation',
    });
    expect(january.closingBalance).toBe(100 + 500 - 2 - 1);
    expect(january.transactionCount).toBe(4);
    expect(statementToCsv(january)).toContain(
      'line,Released holds,"Logo generation (3 credits held, given back)",1,0',
    );
    expect(kept.creditsCharged).toBe(2);

    expect(february.openingBalance).toBe(january.closingBalance);
    expect(line(february, 'usage', 'text_generation')).toMatchObject({ amount: -4, count: 1 });
    expect(line(february, 'grants', 'subscription_grant')).toMatchObject({ amount: 300 });
    expect(line(february, 'purchases')).toMatchObject({ amount: 500, count: 1 });
    expect(line(february, 'grants', 'admin_adjustment')).toMatchObject({ amount: 40 });
    expect(line(february, 'adjustments')).toMatchObject({
      amount: -15,
      label: 'Removed by an administrator',
    });
    // Half the January purchase refunded: half its credits taken back.
    expect(line(february, 'clawbacks')).toMatchObject({ amount: -250, count: 1 });

    expect(march.openingBalance).toBe(february.closingBalance);
    expect(march.closingBalance).toBe(february.closingBalance);
    expect(now.openingBalance).toBe(february.closingBalance);
    expect(line(now, 'grants', 'promo')).toMatchObject({ amount: 25 });
    expect(line(now, 'expirations')).toMatchObject({ amount: -25 });
    // The disputed February purchase: taken back when the funds were withdrawn, given back when won.
    expect(line(now, 'clawbacks')).toMatchObject({ amount: -500, count: 1 });
    expect(line(now, 'reinstatements')).toMatchObject({ amount: 500, count: 1 });
    // The current month closes at the balance.
    expect(now.closingBalance).toBe((await caller.credits.balance()).balance);
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });

  it('puts a row in the month of its UTC time, whatever the offset it was written with', async () => {
    const user = await createUser(db);
    // 00:30 on 1 March in Paris is 23:30 on 28 February in UTC.
    await dateRows(user, 0, '2025-03-01T00:30:00+01:00');
    const caller = callerFor(db, user);
    expect(
      line(await caller.credits.statement({ month: '2025-02' }), 'grants', 'signup_bonus'),
    ).toMatchObject({
      amount: 100,
    });
    expect(await caller.credits.statement({ month: '2025-03' })).toMatchObject({
      openingBalance: 100,
      closingBalance: 100,
      lines: [],
    });
  });

  it('reconciles while spends commit beside it (one snapshot per statement)', async () => {
    const user = await createUser(db, { credits: 300 });
    const caller = callerFor(db, user);
    const spends = Array.from({ length: 40 }, (_, i) =>
      em().transactional((tx) => credits.spend(tx, user.id, 1 + (i % 3), 'image_generation')),
    );
    const reads = Array.from({ length: 12 }, () => caller.credits.statement({ month: currentMonth() }));
    const [, statements] = await Promise.all([Promise.all(spends), Promise.all(reads)]);
    for (const statement of statements) {
      expectReconciles(statement);
      expect(statement.closingBalance).toBeLessThanOrEqual(300);
      expect(statement.closingBalance).toBeGreaterThanOrEqual(300 - 79);
    }
    const final = await caller.credits.statement({ month: currentMonth() });
    expect(final.closingBalance).toBe(300 - 79);
    expect(line(final, 'usage', 'image_generation')).toMatchObject({ amount: -79, count: 40 });
  });

  it('refuses a malformed month or one that has not begun, with a field error', async () => {
    const caller = callerFor(db, await createUser(db));
    for (const month of ['2025-13', '2025-1', 'March', '1899-01']) {
      const failure = await failureOf(caller.credits.statement({ month }));
      expect(failure.code).toBe('BAD_REQUEST');
      expect(failure.data.fieldErrors).toHaveProperty('month');
    }
    const next = new Date();
    next.setUTCMonth(next.getUTCMonth() + 1, 1);
    const failure = await failureOf(caller.credits.statement({ month: next.toISOString().slice(0, 7) }));
    expect(failure.code).toBe('BAD_REQUEST');
    expect(failure.data.fieldErrors).toEqual({ month: ['Pick this month or an earlier one'] });
  });

  it('downloads as CSV whose credits column adds up to the closing balance', async () => {
    const user = await createUser(db, { credits: 50 });
    await em().transactional((tx) => credits.spend(tx, user.id, 7, 'code_generation'));
    const statement = await callerFor(db, user).credits.statement({ month: currentMonth() });
    const csv = statementToCsv(statement);
    const rows = csv
      .trimEnd()
      .split('\r\n')
      .map((row) => row.split(','));
    expect(rows[0]).toEqual(['Row', 'Section', 'Item', 'Transactions', 'Credits']);
    expect(rows.at(-1)?.[0]).toBe('closing');
    const sum = rows
      .filter((row) => row[0] === 'opening' || row[0] === 'line')
      .reduce((total, row) => total + Number(row.at(-1)), 0);
    expect(sum).toBe(statement.closingBalance);
    expect(Number(rows.at(-1)?.at(-1))).toBe(43);
    expect(csv).toContain('line,Usage,Code generation,1,-7');
    expect(statementFileName(statement.month)).toBe(`credits-statement-${statement.month}.csv`);
    // Commas and quotes are quoted; a leading formula sign is defused.
    expect(
      statementToCsv({
        ...statement,
        lines: [{ section: 'grants', label: '=HYPERLINK("x"), y', count: 1, amount: 1 }],
      }),
    ).toContain(`line,Grants,"'=HYPERLINK(""x""), y",1,1`);
  });
});

describe('admin.credits.statement', () => {
  it('reads any user’s statement, the same as theirs; moderators too; NOT_FOUND for no one', async () => {
    const user = await createUser(db, { credits: 80 });
    await em().transactional((tx) => credits.spend(tx, user.id, 5, 'logo_generation'));
    const mine = await callerFor(db, user).credits.statement({ month: currentMonth() });
    const moderator = await createUser(db, { role: 'moderator' });
    const theirs = await callerFor(db, moderator).admin.credits.statement({
      userId: user.id,
      month: currentMonth(),
    });
    expect(theirs).toEqual({ ...mine, email: user.email });
    const missing = await failureOf(
      callerFor(db, moderator).admin.credits.statement({
        userId: '00000000-0000-4000-8000-000000000000',
        month: currentMonth(),
      }),
    );
    expect(missing.code).toBe('NOT_FOUND');
    expect(
      (
        await failureOf(
          callerFor(db, user).admin.credits.statement({ userId: user.id, month: currentMonth() }),
        )
      ).code,
    ).toBe('FORBIDDEN');
  });
});

describe('over HTTP', () => {
  it('returns the statement with its dates as Dates, and BAD_REQUEST for a bad month', async () => {
    const { client } = httpClient(server);
    await client.auth.signUp.mutate({
      email: uniqueEmail(),
      password: 'a long enough password',
      name: 'Csv',
    });
    const statement = await client.credits.statement.query({ month: currentMonth() });
    expect(statement.from).toBeInstanceOf(Date);
    expect(statement).toMatchObject({ openingBalance: 0, closingBalance: 100 });
    const error = await client.credits.statement.query({ month: '2025-00' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as TRPCClientError<AppRouter>).data?.httpStatus).toBe(400);
  });
});
