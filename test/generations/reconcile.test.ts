// Reconciliation of lost provider callbacks against a loopback Replicate: a generation handed to
// the provider (the worker's job ends once the prediction is recorded) whose webhook is lost is
// asked about after the provider's expected time and settled through the same transitions as a
// webhook — outputs copied into our storage, a failure or cancel releases its hold once — and a late webhook
// racing the reconciler changes nothing twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyInvariants } from '../../server/db/verify.ts';
import { CreditTransaction } from '../../server/modules/credits/credit-transaction.entity.ts';
import { Generation } from '../../server/modules/generations/generation.entity.ts';
import {
  GIVE_UP_FACTOR,
  reconcileGenerations,
} from '../../server/modules/generations/generation-reconcile.ts';
import { createReplicateProvider } from '../../server/modules/generations/providers/replicate-provider.ts';
import { QUEUES } from '../../server/modules/jobs/queue.ts';
import { StorageObject } from '../../server/modules/storage/storage-object.entity.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { createUser, type TestUser } from '../support/factories.ts';
import { type FakeReplicate, startFakeReplicate } from '../support/fake-replicate.ts';
import { setupTestServer } from '../support/http.ts';
import { waitFor } from '../support/wait.ts';

const TOKEN = 'r8_loopback_test_token';
const EXPECTED_SECONDS = 120;
let fake: FakeReplicate;
beforeAll(async () => {
  fake = await startFakeReplicate(TOKEN);
});
afterAll(() => fake.close());

const db = setupTestDatabase({
  providers: {
    replicate: createReplicateProvider({
      baseUrl: () => fake.url,
      token: TOKEN,
      expectedSeconds: EXPECTED_SECONDS,
    }),
  },
  providerName: 'replicate',
});
const server = setupTestServer(db);
beforeAll(async () => {
  db.runtime.webhookBaseUrl = server.baseUrl;
  await db.runtime.startWorkers({ pollIntervalMs: 100 });
});

const em = () => db.orm.em.fork();
const logo = { appName: 'Beacon', appFocus: 'lost signals', color1: '#0ea5e9', color2: '#111827' };
const rowOf = (id: string) => em().findOneOrFail(Generation, { id });
const refundsOf = (id: string) => em().count(CreditTransaction, { generation: id, type: 'refund' });
const filesOf = (user: TestUser) => em().count(StorageObject, { user: user.id });
/** The available balance: an open hold would keep it below the total. */
const balanceOf = async (user: TestUser) => (await callerFor(db, user).credits.balance()).available;
const releasesOf = async (id: string) =>
  Number(
    (
      await em().execute<{ n: string }[]>(
        `select count(*) as n from credit_holds where generation_id = ? and status = 'released'`,
        [id],
      )
    )[0]?.n,
  );
/** `seconds` after now: the reconciler's clock. */
const later = (seconds: number) => new Date(Date.now() + seconds * 1000);
const reconcile = (seconds = EXPECTED_SECONDS + 1) =>
  reconcileGenerations(
    { orm: db.orm, storage: db.runtime.storage, providers: db.runtime.providers, logger: db.logger },
    { now: later(seconds) },
  );

/**
 * Holds the generation's row while `start()`'s contenders run, until `waiters` of them wait at their
 * conditional update; then lets them go at once.
 */
async function whileRowHeld(
  id: string,
  waiters: number,
  start: () => Promise<unknown>[],
): Promise<unknown[]> {
  const holder = em();
  await holder.begin();
  try {
    await holder.execute('select id from generations where id = ? for update', [id]);
    const racing = Promise.all(start());
    await waitFor(
      async () => {
        const [row] = await em().execute<{ waiting: string }[]>(
          `select count(*) as waiting from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock' and query like 'update generations%'`,
        );
        return Number(row?.waiting) === waiters;
      },
      { what: `${waiters} contenders to wait on the generation row` },
    );
    await holder.commit();
    return await racing;
  } catch (error) {
    await holder.rollback().catch(() => {});
    throw error;
  }
}

/** A generation whose prediction runs at the provider (held) and whose webhook will be lost. */
async function handedOff(user: TestUser, outputs = 2, outcome: 'succeeded' | 'failed' = 'succeeded') {
  fake.plan({ hold: true, loseWebhooks: true, outputs, outcome });
  const created = await callerFor(db, user).generations.create({
    kind: 'logo',
    input: logo,
    outputCount: outputs,
  });
  const predictionId = await waitFor(async () => (await rowOf(created.id)).providerPredictionId, {
    what: 'the prediction to be recorded',
  });
  // The job ended once the prediction was recorded: no worker waits for this generation.
  await waitFor(
    async () => {
      const rows = await em().execute<{ state: string }[]>(
        `select state from pgboss.job where name = ? and data->>'generationId' = ?`,
        [QUEUES.generationRun, created.id],
      );
      return rows[0]?.state === 'completed';
    },
    { what: 'the generation job to complete' },
  );
  expect((await rowOf(created.id)).status).toBe('running');
  return { id: created.id, predictionId };
}

describe('reconciling lost provider callbacks', () => {
  it('settles a succeeded prediction whose webhook was lost, outputs copied into storage; a late webhook changes nothing', async () => {
    const user = await createUser(db, { credits: 10 });
    const { id, predictionId } = await handedOff(user, 2);
    await fake.release(predictionId);
    // Not overdue yet: left alone, the provider not even asked.
    expect(await reconcile(EXPECTED_SECONDS - 5)).toMatchObject({ checked: 0 });
    expect(fake.reads.get(predictionId) ?? 0).toBe(1); // the worker's one look after recording it
    expect(await reconcile()).toMatchObject({ checked: 1, settled: 1 });
    const row = await rowOf(id);
    expect(row.status).toBe('succeeded');
    expect(row.images).toHaveLength(2);
    expect(await filesOf(user)).toBe(2);
    // Replicate deletes the outputs after an hour: ours are in our storage.
    fake.expireOutputs(predictionId);
    const objectId = row.images?.[0]?.objectId as string;
    const { downloadUrl } = await callerFor(db, user).storage.get({ id: objectId });
    const file = await fetch(`${server.baseUrl}${downloadUrl}`);
    expect(file.status).toBe(200);
    expect(await file.text()).toContain('<svg');
    // The webhook arrives at last.
    expect(await fake.sendWebhook(predictionId)).toBe(200);
    expect((await rowOf(id)).images).toEqual(row.images);
    expect(await filesOf(user)).toBe(2);
    expect(await refundsOf(id)).toBe(0);
    expect(await balanceOf(user)).toBe(8);
    expect(await reconcile()).toMatchObject({ checked: 0 });
  });

  it('settles once when late webhooks race the reconciler', async () => {
    const user = await createUser(db, { credits: 10 });
    const { id, predictionId } = await handedOff(user, 3);
    await fake.release(predictionId);
    // Every contender downloads the outputs, stores its copy and waits at the conditional update.
    const results = await whileRowHeld(id, 6, () => [
      reconcile(),
      fake.sendWebhook(predictionId),
      reconcile(),
      fake.sendWebhook(predictionId),
      fake.sendWebhook(predictionId),
      reconcile(),
    ]);
    expect(results.filter((result) => typeof result === 'number')).toEqual([200, 200, 200]);
    const row = await rowOf(id);
    expect(row.status).toBe('succeeded');
    expect(row.images).toHaveLength(3);
    // The losers' copies were discarded: only the winner's files remain.
    expect(await filesOf(user)).toBe(3);
    expect(await refundsOf(id)).toBe(0);
    // Captured once: one usage row of the held price, nothing held any more.
    expect(await em().count(CreditTransaction, { generation: id, type: 'usage' })).toBe(1);
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({ balance: 7, held: 0 });
    expect(await balanceOf(user)).toBe(7);
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });

  it('fails and releases its hold exactly once a prediction that failed, whoever settles it', async () => {
    const user = await createUser(db, { credits: 10 });
    const { id, predictionId } = await handedOff(user, 2, 'failed');
    await fake.release(predictionId);
    await whileRowHeld(id, 4, () => [
      reconcile(),
      fake.sendWebhook(predictionId),
      reconcile(),
      fake.sendWebhook(predictionId),
    ]);
    const row = await rowOf(id);
    expect(row.status).toBe('failed');
    expect(row.error).toContain('CUDA out of memory');
    expect(await refundsOf(id)).toBe(0);
    expect(await releasesOf(id)).toBe(1);
    expect(await balanceOf(user)).toBe(10);
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });

  it('cancels and releases its hold once: a prediction canceled at the provider', async () => {
    const user = await createUser(db, { credits: 10 });
    const { id, predictionId } = await handedOff(user, 1);
    // Canceled from the provider's side (its dashboard, its own limits).
    await fetch(`${fake.url}/v1/predictions/${predictionId}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    await Promise.all([reconcile(), reconcile()]);
    expect((await rowOf(id)).status).toBe('canceled');
    expect(await refundsOf(id)).toBe(0);
    expect(await releasesOf(id)).toBe(1);
    expect(await balanceOf(user)).toBe(10);
  });

  it('leaves a prediction still running, then gives up past its limit: canceled at the provider, its hold released', async () => {
    const user = await createUser(db, { credits: 10 });
    const { id, predictionId } = await handedOff(user, 1);
    expect(await reconcile()).toMatchObject({ checked: 1, stillRunning: 1 });
    expect((await rowOf(id)).status).toBe('running');
    expect(await reconcile(EXPECTED_SECONDS * GIVE_UP_FACTOR + 1)).toMatchObject({ checked: 1, gaveUp: 1 });
    const row = await rowOf(id);
    expect(row.status).toBe('failed');
    expect(row.error).toMatch(/did not finish within 24 minutes/);
    expect(fake.predictions.get(predictionId)?.status).toBe('canceled');
    expect(await refundsOf(id)).toBe(0);
    expect(await releasesOf(id)).toBe(1);
    expect(await balanceOf(user)).toBe(10);
  });

  it('releases the hold of a generation whose outputs the provider deleted before they were collected', async () => {
    const user = await createUser(db, { credits: 10 });
    const { id, predictionId } = await handedOff(user, 2);
    await fake.release(predictionId);
    fake.expireOutputs(predictionId);
    expect(await reconcile()).toMatchObject({ settled: 1 });
    const row = await rowOf(id);
    expect(row.status).toBe('failed');
    expect(row.error).toMatch(/deleted the outputs/);
    expect(await filesOf(user)).toBe(0);
    expect(await refundsOf(id)).toBe(0);
    expect(await releasesOf(id)).toBe(1);
  });

  it('releases it too when the late webhook finds the outputs gone', async () => {
    const user = await createUser(db, { credits: 10 });
    const { id, predictionId } = await handedOff(user, 1);
    await fake.release(predictionId);
    fake.expireOutputs(predictionId);
    expect(await fake.sendWebhook(predictionId)).toBe(200);
    expect((await rowOf(id)).status).toBe('failed');
    expect(await refundsOf(id)).toBe(0);
    expect(await releasesOf(id)).toBe(1);
    expect(await balanceOf(user)).toBe(10);
  });

  it('waits for a provider that is down, and settles once it is back', async () => {
    const user = await createUser(db, { credits: 10 });
    const { id, predictionId } = await handedOff(user, 1);
    await fake.release(predictionId);
    fake.setDown(true);
    try {
      expect(await reconcile()).toMatchObject({ checked: 1, unavailable: 1 });
      expect((await rowOf(id)).status).toBe('running');
    } finally {
      fake.setDown(false);
    }
    expect(await reconcile()).toMatchObject({ checked: 1, settled: 1 });
    expect((await rowOf(id)).status).toBe('succeeded');
  });

  it('runs as the scheduled generation-reconcile job', async () => {
    const user = await createUser(db, { credits: 10 });
    const { id, predictionId } = await handedOff(user, 1);
    await fake.release(predictionId);
    // The prediction was recorded longer ago than the provider is expected to take.
    await em().execute(`update generations set updated_at = now() - make_interval(secs => ?) where id = ?`, [
      EXPECTED_SECONDS + 1,
      id,
    ]);
    await db.runtime.jobs.boss.send(QUEUES.generationReconcile, {});
    const row = await waitFor(
      async () => {
        const current = await rowOf(id);
        return current.status === 'succeeded' ? current : null;
      },
      { what: 'the reconciliation job to settle the generation' },
    );
    expect(row.images).toHaveLength(1);
    expect(await filesOf(user)).toBe(1);
  });
});
