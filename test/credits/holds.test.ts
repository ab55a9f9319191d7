// Holds (issue 16, item 1): generations.create holds the price in its one statement (the available
// balance drops, nothing is spent); success captures it into one `usage` row, failure or cancel
// releases it (no ledger row), exactly once whatever races; concurrent creates never overdraw the
// available balance; the sweeper releases the holds of generations that can no longer finish.
// No workers run here: generations stay queued until a test moves them.
import { describe, expect, it } from 'vitest';
import { verifyInvariants } from '../../server/db/verify.ts';
import { CreditTransaction } from '../../server/modules/credits/credit-transaction.entity.ts';
import * as credits from '../../server/modules/credits/credits.service.ts';
import * as generations from '../../server/modules/generations/generations.service.ts';
import { sweepHolds } from '../../server/modules/generations/hold-sweep.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { failureOf } from '../support/errors.ts';
import { createUser, type TestUser } from '../support/factories.ts';

const db = setupTestDatabase();
const em = () => db.orm.em.fork();
const logo = { appName: 'Holds', appFocus: 'reserving credits', color1: '#112233', color2: '#445566' };
const output = { images: [], text: 'done', tokensUsed: 1, providerResponse: null };

const holdOf = async (generationId: string) =>
  (
    await em().execute<{ id: string; status: string; amount: number }[]>(
      'select id, status, amount from credit_holds where generation_id = ?',
      [generationId],
    )
  )[0] ?? null;
const ledgerRowsOf = (generationId: string) =>
  em().count(CreditTransaction, { generation: generationId, type: { $in: ['usage', 'refund'] } });
const expectClean = async (user: TestUser) =>
  expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);

async function running(user: TestUser, outputCount = 2) {
  const generation = await callerFor(db, user).generations.create({ kind: 'logo', input: logo, outputCount });
  await em().transactional((tx) => generations.startRun(tx, generation.id));
  return generation;
}

describe('holds', () => {
  it('holds at create (no ledger row yet), then captures into one usage row linked to the generation', async () => {
    const user = await createUser(db, { credits: 20 });
    const created = await em().transactional((tx) =>
      generations.createGeneration(
        tx,
        { jobs: db.runtime.jobs, providerName: 'none-registered-for-this-test' },
        user.id,
        { kind: 'logo', input: logo, outputCount: 2 },
      ),
    );
    expect(await em().find(CreditTransaction, { generation: created.id })).toEqual([]);
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({
      balance: 20,
      held: 2,
      available: 18,
    });
    // No worker runs in this file: settle it by hand, as a provider would.
    await em().transactional((tx) => generations.startRun(tx, created.id));
    await em().transactional((tx) => generations.completeRun(tx, created.id, output));
    const usage = await em().find(CreditTransaction, { generation: created.id });
    expect(usage).toMatchObject([{ type: 'usage', amount: -2, operationType: 'logo_generation' }]);
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({ balance: 18, held: 0 });
    await expectClean(user);
  });

  it('concurrent creates never take more than the available balance: 40 × 3 against 50 → 16 held', async () => {
    const user = await createUser(db, { credits: 50 });
    const caller = callerFor(db, user);
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, () =>
        caller.generations.create({ kind: 'logo', input: logo, outputCount: 3 }),
      ),
    );
    const held = results.filter((result) => result.status === 'fulfilled');
    expect(held).toHaveLength(16);
    for (const result of results) {
      if (result.status === 'rejected') expect(result.reason).toMatchObject({ code: 'PAYMENT_REQUIRED' });
    }
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 50, held: 48, available: 2 });
    // Spending other than generations cannot take held credits either.
    await expect(
      em().transactional((tx) => credits.spend(tx, user.id, 3, 'text_generation')),
    ).rejects.toMatchObject({ code: 'insufficient_credits' });
    await expectClean(user);
  });

  it('creates racing releases and captures: the available balance is never overdrawn, every hold settles once', async () => {
    const user = await createUser(db, { credits: 20 });
    const caller = callerFor(db, user);
    const first = await Promise.all(
      Array.from({ length: 5 }, () =>
        caller.generations.create({ kind: 'logo', input: logo, outputCount: 4 }),
      ),
    );
    await expect(caller.credits.balance()).resolves.toMatchObject({ available: 0, held: 20 });
    for (const generation of first.slice(0, 2)) {
      await em().transactional((tx) => generations.startRun(tx, generation.id));
    }
    // Two captures (spent), three cancels (released: 12 available again), and 8 creates of 2 racing them.
    const outcomes = await Promise.allSettled([
      ...first.slice(0, 2).map((g) => em().transactional((tx) => generations.completeRun(tx, g.id, output))),
      ...first.slice(2).map((g) => caller.generations.cancel({ id: g.id })),
      ...Array.from({ length: 8 }, () =>
        caller.generations.create({ kind: 'logo', input: logo, outputCount: 2 }),
      ),
    ]);
    const created = outcomes.slice(5).filter((o) => o.status === 'fulfilled').length;
    expect(created).toBeLessThanOrEqual(6);
    const balance = await caller.credits.balance();
    expect(balance).toMatchObject({ balance: 12, held: created * 2, available: 12 - created * 2 });
    for (const generation of first.slice(0, 2))
      expect(await holdOf(generation.id)).toMatchObject({ status: 'captured' });
    for (const generation of first.slice(2))
      expect(await holdOf(generation.id)).toMatchObject({ status: 'released' });
    await expectClean(user);
  });

  it('captures exactly once under 10 duplicate completions, and a racing failure or cancel changes nothing', async () => {
    const user = await createUser(db, { credits: 10 });
    const generation = await running(user, 3);
    const results = await Promise.allSettled([
      ...Array.from({ length: 10 }, () =>
        em().transactional((tx) => generations.completeRun(tx, generation.id, output)),
      ),
      em().transactional((tx) => generations.failRun(tx, generation.id, 'late failure')),
      callerFor(db, user).generations.cancel({ id: generation.id }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled' && r.value === true).length;
    expect(won).toBe(1);
    const hold = await holdOf(generation.id);
    const rows = await em().find(CreditTransaction, { generation: generation.id });
    if (hold?.status === 'captured') expect(rows).toMatchObject([{ type: 'usage', amount: -3 }]);
    else expect(rows).toEqual([]);
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({ held: 0 });
    await expectClean(user);
  });

  it('a crash between the transition and its commit settles nothing; the retried run captures once', async () => {
    const user = await createUser(db, { credits: 10 });
    const generation = await running(user, 2);
    // The worker dies after capturing, before committing: everything rolls back with it.
    const crash = new Error('worker killed');
    await expect(
      em().transactional(async (tx) => {
        expect(await generations.completeRun(tx, generation.id, output)).toBe(true);
        expect(await ledgerRowsOf(generation.id)).toBe(0); // not visible outside its transaction
        throw crash;
      }),
    ).rejects.toBe(crash);
    expect(await holdOf(generation.id)).toMatchObject({ status: 'open', amount: 2 });
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({ balance: 10, held: 2 });
    // The job runs again (twice, as pg-boss may): one capture.
    await Promise.all([
      em().transactional((tx) => generations.completeRun(tx, generation.id, output)),
      em().transactional((tx) => generations.completeRun(tx, generation.id, output)),
    ]);
    expect(await ledgerRowsOf(generation.id)).toBe(1);
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({ balance: 8, held: 0 });
    await expectClean(user);
  });

  it('an administrator cannot take credits a generation holds', async () => {
    const user = await createUser(db, { credits: 10 });
    await callerFor(db, user).generations.create({ kind: 'logo', input: logo, outputCount: 8 });
    const admin = await createUser(db, { role: 'admin' });
    const refused = await failureOf(
      callerFor(db, admin).admin.credits.adjust({ userId: user.id, amount: -5, reason: 'too much' }),
    );
    expect(refused.code).toBe('BAD_REQUEST');
    await callerFor(db, admin).admin.credits.adjust({ userId: user.id, amount: -2, reason: 'fits' });
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({
      balance: 8,
      held: 8,
      available: 0,
    });
    await expectClean(user);
  });
});

describe('the hold sweeper', () => {
  it('fails generations whose job is gone, releasing their holds once, even with two sweepers at once', async () => {
    const user = await createUser(db, { credits: 10 });
    const caller = callerFor(db, user);
    const lost = await caller.generations.create({ kind: 'logo', input: logo, outputCount: 3 });
    const waiting = await caller.generations.create({ kind: 'logo', input: logo, outputCount: 2 });
    const recent = await caller.generations.create({ kind: 'logo', input: logo, outputCount: 1 });
    // `lost`'s job was deleted (its attempts and dead letter all gone) long ago; `waiting` still has
    // its job (a long queue); `recent` lost its job a moment ago (left for a later sweep).
    await em().execute(
      `delete from pgboss.job where name = 'generation-run' and data->>'generationId' in (?, ?)`,
      [lost.id, recent.id],
    );
    await em().execute(`update generations set updated_at = now() - interval '1 hour' where id in (?, ?)`, [
      lost.id,
      waiting.id,
    ]);
    const reports = await Promise.all([sweepHolds(db.orm), sweepHolds(db.orm)]);
    expect(reports.reduce((sum, report) => sum + report.failed, 0)).toBe(1);
    await expect(caller.generations.get({ id: lost.id })).resolves.toMatchObject({ status: 'failed' });
    expect(await holdOf(lost.id)).toMatchObject({ status: 'released' });
    expect(await holdOf(waiting.id)).toMatchObject({ status: 'open' });
    expect(await holdOf(recent.id)).toMatchObject({ status: 'open' });
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 10, held: 3, available: 7 });
    await expectClean(user);
  });

  it('releases the hold of a generation whose row is gone, and settles a hold its generation left open', async () => {
    const user = await createUser(db, { credits: 10 });
    const caller = callerFor(db, user);
    const deleted = await caller.generations.create({ kind: 'logo', input: logo, outputCount: 2 });
    const succeeded = await running(user, 3);
    await em().execute('delete from generations where id = ?', [deleted.id]);
    // A transition that did not settle (a bug, a manual edit): the generation ended, its hold is open.
    await em().execute("update generations set status = 'succeeded' where id = ?", [succeeded.id]);
    const report = await sweepHolds(db.orm);
    expect(report).toMatchObject({ orphansReleased: 1, settled: 1 });
    expect(await holdOf(succeeded.id)).toMatchObject({ status: 'captured' });
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 7, held: 0, available: 7 });
    expect(await sweepHolds(db.orm)).toEqual({ failed: 0, orphansReleased: 0, settled: 0 });
    await expectClean(user);
  });
});
