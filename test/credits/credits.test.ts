import { describe, expect, it } from 'vitest';
import { sql } from '../../server/db/sql.ts';
import { verifyInvariants } from '../../server/db/verify.ts';
import { CreditTransaction } from '../../server/modules/credits/credit-transaction.entity.ts';
import * as credits from '../../server/modules/credits/credits.service.ts';
import { completeRun, failRun, startRun } from '../../server/modules/generations/generations.service.ts';
import { DEFAULT_FEATURE_COSTS } from '../../shared/defaults.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { codeOf, failureOf } from '../support/errors.ts';
import { createUser } from '../support/factories.ts';
import { waitFor } from '../support/wait.ts';

const db = setupTestDatabase();

const spendOnce = (userId: string, amount: number, key?: string) =>
  db.orm.em.fork().transactional((em) => credits.spend(em, userId, amount, 'logo_generation', {}, key));

async function expectLedgerConsistent(userId: string) {
  expect(await verifyInvariants(db.orm.em.fork(), { userIds: [userId] })).toEqual([]);
}

describe('credits.balance', () => {
  it('shows the sign-up bonus of a new account', async () => {
    const user = await createUser(db);
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({
      balance: 100,
      totalGranted: 100,
      totalUsed: 0,
    });
  });

  it('refuses anonymous callers', async () => {
    expect(await codeOf(callerFor(db, null).credits.balance())).toBe('UNAUTHORIZED');
  });
});

describe('spending credits', () => {
  it('never overdraws: 50 parallel spends of 3 against 100 → exactly 33 succeed', async () => {
    const user = await createUser(db, { credits: 100 });
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => spendOnce(user.id, 3)));
    const succeeded = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(succeeded).toHaveLength(33);
    expect(failed).toHaveLength(17);
    for (const failure of failed) expect(failure.reason).toMatchObject({ code: 'insufficient_credits' });
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({ balance: 1, totalUsed: 99 });
    await expectLedgerConsistent(user.id);
  });

  it('fails with PAYMENT_REQUIRED and changes nothing when short', async () => {
    const user = await createUser(db, { credits: 2 });
    await expect(spendOnce(user.id, 3)).rejects.toMatchObject({ code: 'insufficient_credits' });
    const caller = callerFor(db, user);
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 2 });
    const { items } = await caller.credits.transactions({ types: ['usage'] });
    expect(items).toEqual([]);
  });

  it('is idempotent: the same key debits once and returns the first result', async () => {
    const user = await createUser(db, { credits: 100 });
    const first = await spendOnce(user.id, 5, 'order-1');
    const second = await spendOnce(user.id, 5, 'order-1');
    expect(second).toMatchObject({ id: first.id, balanceAfter: 95, replayed: true });
    expect(first.replayed).toBe(false);
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({ balance: 95 });
    await expectLedgerConsistent(user.id);
  });

  it('is idempotent under concurrency: 10 parallel spends with one key debit once', async () => {
    const user = await createUser(db, { credits: 100 });
    const results = await Promise.all(Array.from({ length: 10 }, () => spendOnce(user.id, 7, 'same-key')));
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({ balance: 93 });
    await expectLedgerConsistent(user.id);
  });

  it('refuses to reuse a key for a different amount', async () => {
    const user = await createUser(db, { credits: 100 });
    await spendOnce(user.id, 5, 'k');
    await expect(spendOnce(user.id, 6, 'k')).rejects.toMatchObject({ code: 'conflict' });
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({ balance: 95 });
  });

  it('rolls back with the transaction it joined', async () => {
    const user = await createUser(db, { credits: 10 });
    await expect(
      db.orm.em.fork().transactional(async (em) => {
        await credits.spend(em, user.id, 4, 'text_generation');
        throw new Error('the rest of the unit of work failed');
      }),
    ).rejects.toThrow('the rest of the unit of work failed');
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({ balance: 10 });
    await expectLedgerConsistent(user.id);
  });

  it('rejects non-positive and fractional amounts', async () => {
    const user = await createUser(db);
    for (const amount of [0, -1, 1.5, Number.NaN]) {
      await expect(spendOnce(user.id, amount)).rejects.toMatchObject({ code: 'bad_request' });
    }
  });
});

describe('grants and refunds', () => {
  it('keep the totals by type and the balance_after chain', async () => {
    const user = await createUser(db, { credits: 10 });
    const em = db.orm.em.fork();
    await em.transactional(async (tx) => {
      await credits.spend(tx, user.id, 4, 'image_generation');
      await credits.refund(tx, user.id, 4, { description: 'generation failed' });
      await credits.grant(tx, user.id, 50, 'purchase', { externalOrderId: 'ord_1' });
    });
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({
      balance: 60,
      totalPurchased: 50,
      totalUsed: 4,
      totalRefunded: 4,
    });
    await expectLedgerConsistent(user.id);
  });
});

describe('expiring grants', () => {
  const day = 24 * 60 * 60 * 1000;
  const remainingOf = async (userId: string) =>
    (
      await sql<{ remaining: number }>(
        db.orm.em.fork(),
        'select remaining from credit_grants where user_id = $1 order by expires_at',
        [userId],
      )
    ).map((row) => row.remaining);

  it('are spent soonest expiry first, then the credits that never expire', async () => {
    const user = await createUser(db, { credits: 10 });
    await db.orm.em.fork().transactional(async (em) => {
      await credits.grant(em, user.id, 5, 'promo', { expiresAt: new Date(Date.now() + 9 * day) });
      await credits.grant(em, user.id, 4, 'promo', { expiresAt: new Date(Date.now() + 2 * day) });
    });
    await spendOnce(user.id, 6);
    expect(await remainingOf(user.id)).toEqual([0, 3]);
    await spendOnce(user.id, 7);
    expect(await remainingOf(user.id)).toEqual([0, 0]);
    expect((await callerFor(db, user).credits.balance()).balance).toBe(6);
    await expectLedgerConsistent(user.id);
  });

  it('granted while a spend waits for the balance row are drained by that spend', async () => {
    // The spend's one statement began before the grant committed; its draining must still see it.
    const user = await createUser(db, { credits: 10 });
    const granting = db.orm.em.fork();
    await granting.begin();
    await credits.grant(granting, user.id, 10, 'promo', { expiresAt: new Date(Date.now() + day) });
    const spending = spendOnce(user.id, 10);
    await waitFor(
      async () =>
        (
          await sql<{ n: number }>(
            db.orm.em.fork(),
            `select count(*)::int as n from pg_stat_activity
              where wait_event_type = 'Lock' and query like '%update credit_balances%'`,
          )
        )[0]?.n,
      { what: 'the spend to wait for the balance row', intervalMs: 10 },
    );
    await granting.commit();
    await spending;
    // Balance 20 − 10: the 10 taken are the expiring ones, the 10 left never expire.
    expect(await remainingOf(user.id)).toEqual([0]);
    expect((await callerFor(db, user).credits.balance()).balance).toBe(10);
    await expectLedgerConsistent(user.id);
  });
});

describe('credits.transactions', () => {
  it('pages newest first with a cursor until the end', async () => {
    const user = await createUser(db, { credits: 100 });
    for (let i = 0; i < 7; i++) await spendOnce(user.id, 1);
    const caller = callerFor(db, user);
    const seen: number[] = [];
    let cursor: number | null | undefined;
    do {
      const page = await caller.credits.transactions({ limit: 3, cursor });
      seen.push(...page.items.map((item) => item.seq));
      cursor = page.nextCursor;
    } while (cursor);
    // signup bonus + test adjustment? (100 = bonus, so no adjustment) + 7 spends
    expect(seen).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
  });

  it('filters by type and date range', async () => {
    const user = await createUser(db, { credits: 100 });
    await spendOnce(user.id, 2);
    const caller = callerFor(db, user);
    const usage = await caller.credits.transactions({ types: ['usage'] });
    expect(usage.items.map((item) => item.type)).toEqual(['usage']);
    expect(usage.items[0]).toMatchObject({ amount: -2, balanceAfter: 98, operationType: 'logo_generation' });

    const future = new Date(Date.now() + 60_000);
    expect((await caller.credits.transactions({ from: future })).items).toEqual([]);
    const past = new Date(Date.now() - 60_000);
    expect((await caller.credits.transactions({ from: past, to: future })).items).toHaveLength(2);
  });

  it("never shows another user's ledger", async () => {
    const alice = await createUser(db);
    const bob = await createUser(db);
    await spendOnce(bob.id, 9);
    const { items } = await callerFor(db, alice).credits.transactions({});
    expect(items.every((item) => item.amount !== -9)).toBe(true);
    expect(items).toHaveLength(1);
  });

  it.each([
    [{ limit: 0 }, 'limit'],
    [{ limit: 1000 }, 'limit'],
    [{ cursor: -1 }, 'cursor'],
    [{ types: ['bogus'] }, 'types.0'],
    [{ from: new Date(2030, 0, 1), to: new Date(2020, 0, 1) }, 'to'],
  ])('rejects bad input %j with a field issue on %s', async (input, field) => {
    const user = await createUser(db);
    const caller = callerFor(db, user);
    // biome-ignore lint/suspicious/noExplicitAny: deliberately invalid input
    const error = await failureOf(caller.credits.transactions(input as any));
    expect(error.code).toBe('BAD_REQUEST');
    const { errorData } = await import('../../server/trpc/errors.ts');
    expect(errorData(error, null).fieldErrors).toHaveProperty(field);
  });
});

describe('credits.costs', () => {
  it('is public and returns the feature costs', async () => {
    await expect(callerFor(db, null).credits.costs()).resolves.toEqual(DEFAULT_FEATURE_COSTS);
  });
});

describe('credits.usage', () => {
  it('totals spending per operation (captured holds; a released one is no spending) and per day, zeros included', async () => {
    const user = await createUser(db, { credits: 200 });
    const caller = callerFor(db, user);
    const logo = await caller.generations.create({
      kind: 'logo',
      input: { appName: 'Acme', appFocus: 'rockets', color1: '#112233', color2: '#445566' },
      outputCount: 3,
    });
    const text = await caller.generations.create({ kind: 'text', input: { prompt: 'a tagline for Acme' } });
    await db.orm.em.fork().transactional((em) => failRun(em, logo.id, 'provider exploded'));
    await db.orm.em.fork().transactional((em) => startRun(em, text.id));
    await db.orm.em
      .fork()
      .transactional((em) =>
        completeRun(em, text.id, { images: [], text: 'Acme: up', tokensUsed: 3, providerResponse: null }),
      );
    // A charge from three days ago, and one older than the window.
    await db.orm.em.fork().transactional(async (em) => {
      const old = await credits.spend(em, user.id, 5, 'image_generation');
      const older = await credits.spend(em, user.id, 7, 'image_generation');
      await em.nativeUpdate(
        CreditTransaction,
        { id: old.id },
        { createdAt: new Date(Date.now() - 3 * 86_400_000) },
      );
      await em.nativeUpdate(
        CreditTransaction,
        { id: older.id },
        { createdAt: new Date(Date.now() - 30 * 86_400_000) },
      );
    });

    const textCost = DEFAULT_FEATURE_COSTS.text_generation;
    const usage = await caller.credits.usage({ days: 7 });
    expect(usage.byOperation).toEqual(
      expect.arrayContaining([
        { operation: 'text_generation', used: textCost, refunded: 0, net: textCost, charges: 1 },
        { operation: 'image_generation', used: 5, refunded: 0, net: 5, charges: 1 },
      ]),
    );
    expect(usage.byOperation).toHaveLength(2);
    expect(usage.byDay).toHaveLength(7);
    const today = new Date().toISOString().slice(0, 10);
    expect(usage.byDay.at(-1)).toEqual({ day: today, used: textCost, refunded: 0 });
    expect(usage.byDay.reduce((sum, day) => sum + day.used, 0)).toBe(textCost + 5);

    // Another user's spending is not in it; bad input is refused.
    const other = await callerFor(db, await createUser(db)).credits.usage({});
    expect(other.byOperation).toEqual([]);
    expect(other.byDay).toHaveLength(30);
    expect(await codeOf(caller.credits.usage({ days: 0 }))).toBe('BAD_REQUEST');
  });
});
