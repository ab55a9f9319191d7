// Racing cancels: no worker runs in this file, so a generation stays queued until the cancels race
// for it. One cancel makes the transition and releases the hold; every other one answers with what the
// generation really became — never a made-up "already failed".
import { describe, expect, it } from 'vitest';
import { verifyInvariants } from '../../server/db/verify.ts';
import { CreditTransaction } from '../../server/modules/credits/credit-transaction.entity.ts';
import { finish } from '../../server/modules/generations/generation-runner.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { failureOf } from '../support/errors.ts';
import { createUser } from '../support/factories.ts';
import { waitFor } from '../support/wait.ts';

const db = setupTestDatabase();

const refundsOf = (generationId: string) =>
  db.orm.em.fork().count(CreditTransaction, { generation: generationId, type: 'refund' });
const holdStatusOf = async (generationId: string) =>
  (
    await db.orm.em
      .fork()
      .execute<{ status: string }[]>('select status from credit_holds where generation_id = ?', [
        generationId,
      ])
  )[0]?.status;

describe('racing cancels', () => {
  it('of 10 parallel cancels, every one answers canceled, and the credits come back once', async () => {
    const user = await createUser(db, { credits: 10 });
    const caller = callerFor(db, user);
    const created = await caller.generations.create({ kind: 'text', input: { prompt: 'a haiku' } });
    // Hold the row so that every cancel has read the generation (queued) and waits at its
    // conditional update; then let them go. One wins; nine find the row already canceled.
    const holder = db.orm.em.fork();
    await holder.begin();
    await holder.execute('select id from generations where id = ? for update', [created.id]);
    const racing = Promise.allSettled(
      Array.from({ length: 10 }, () => callerFor(db, user).generations.cancel({ id: created.id })),
    );
    await waitFor(
      async () => {
        const [row] = await db.orm.em.fork().execute<{ waiting: string }[]>(
          `select count(*) as waiting from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock' and query like 'update generations%'`,
        );
        return Number(row?.waiting) === 10;
      },
      { what: 'all 10 cancels to wait on the generation row' },
    );
    await holder.commit();
    const results = await racing;
    const refused = results.filter((result) => result.status === 'rejected');
    expect(refused.map((result) => String((result as PromiseRejectedResult).reason))).toEqual([]);
    for (const result of results) {
      expect((result as PromiseFulfilledResult<{ status: string }>).value).toMatchObject({
        id: created.id,
        status: 'canceled',
        error: 'Canceled by the user',
      });
    }
    expect(await refundsOf(created.id)).toBe(0);
    expect(await holdStatusOf(created.id)).toBe('released');
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 10, held: 0, available: 10 });
    expect(await verifyInvariants(db.orm.em.fork(), { userIds: [user.id] })).toEqual([]);
  });

  it('a cancel that lost to a failure says it failed; to a success, that it succeeded', async () => {
    const user = await createUser(db, { credits: 10 });
    const caller = callerFor(db, user);
    const deps = { orm: db.orm, storage: db.runtime.storage, logger: db.logger };
    const failed = await caller.generations.create({ kind: 'text', input: { prompt: 'one' } });
    await db.orm.em.fork().execute("update generations set status = 'running' where id = ?", [failed.id]);
    await finish(deps, failed.id, { state: 'failed', error: 'provider exploded' });
    const lostToFailure = await failureOf(caller.generations.cancel({ id: failed.id }));
    expect(lostToFailure.code).toBe('CONFLICT');
    expect(lostToFailure.message).toBe('This generation has already failed');

    const succeeded = await caller.generations.create({ kind: 'text', input: { prompt: 'two' } });
    await db.orm.em.fork().execute("update generations set status = 'running' where id = ?", [succeeded.id]);
    await finish(deps, succeeded.id, { state: 'succeeded', output: { files: [], text: 'done' } });
    const lostToSuccess = await failureOf(caller.generations.cancel({ id: succeeded.id }));
    expect(lostToSuccess.message).toBe('This generation has already succeeded');
    expect(await refundsOf(succeeded.id)).toBe(0);
    expect(await refundsOf(failed.id)).toBe(0);
    expect(await holdStatusOf(failed.id)).toBe('released');
    expect(await holdStatusOf(succeeded.id)).toBe('captured');
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 9, held: 0, available: 9 });
    expect(await verifyInvariants(db.orm.em.fork(), { userIds: [user.id] })).toEqual([]);
  });
});
