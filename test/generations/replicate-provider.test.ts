// The Replicate-style provider against a loopback server speaking its protocol, through the real
// worker and the real webhook route.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyInvariants } from '../../server/db/verify.ts';
import { CreditTransaction } from '../../server/modules/credits/credit-transaction.entity.ts';
import { Generation } from '../../server/modules/generations/generation.entity.ts';
import { createReplicateProvider } from '../../server/modules/generations/providers/replicate-provider.ts';
import { StorageObject } from '../../server/modules/storage/storage-object.entity.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { createUser, type TestUser } from '../support/factories.ts';
import { type FakeReplicate, startFakeReplicate } from '../support/fake-replicate.ts';
import { setupTestServer } from '../support/http.ts';
import { waitFor } from '../support/wait.ts';

const TOKEN = 'r8_loopback_test_token';
let fake: FakeReplicate;
beforeAll(async () => {
  fake = await startFakeReplicate(TOKEN);
});
afterAll(() => fake.close());

const db = setupTestDatabase({
  providers: { replicate: createReplicateProvider({ baseUrl: () => fake.url, token: TOKEN }) },
  providerName: 'replicate',
});
const server = setupTestServer(db);
beforeAll(async () => {
  db.runtime.webhookBaseUrl = server.baseUrl;
  await db.runtime.startWorkers({ pollIntervalMs: 100 });
});

const logo = { appName: 'Orbit', appFocus: 'space travel', color1: '#0ea5e9', color2: '#111827' };

async function generate(user: TestUser, outputCount = 2) {
  return callerFor(db, user).generations.create({ kind: 'logo', input: logo, outputCount });
}

const rowOf = (id: string) => db.orm.em.fork().findOneOrFail(Generation, { id });
const finished = (id: string) =>
  waitFor(
    async () => {
      const row = await rowOf(id);
      return ['succeeded', 'failed', 'canceled'].includes(row.status) ? row : null;
    },
    { what: `generation ${id} to finish` },
  );
const predictionOf = (id: string) =>
  waitFor(async () => (await rowOf(id)).providerPredictionId, { what: 'the prediction to be recorded' });
const refundsOf = (id: string) =>
  db.orm.em.fork().count(CreditTransaction, { generation: id, type: 'refund' });
const releasesOf = async (id: string) =>
  Number(
    (
      await db.orm.em
        .fork()
        .execute<{ n: string }[]>(
          `select count(*) as n from credit_holds where generation_id = ? and status = 'released'`,
          [id],
        )
    )[0]?.n,
  );

async function expectLedgerConsistent(user: TestUser) {
  expect(await verifyInvariants(db.orm.em.fork(), { userIds: [user.id] })).toEqual([]);
}

describe('the Replicate-style provider', () => {
  it('completes by signed webhook and downloads the outputs into storage', async () => {
    const user = await createUser(db, { credits: 10 });
    fake.plan({ outputs: 2 });
    const created = await generate(user);
    const row = await finished(created.id);
    expect(row.status).toBe('succeeded');
    expect(row.images).toHaveLength(2);
    expect(await db.orm.em.fork().count(StorageObject, { user: user.id })).toBe(2);
    const file = await fetch(
      `${server.baseUrl}${(await callerFor(db, user).storage.get({ id: row.images?.[0]?.objectId as string })).downloadUrl}`,
    );
    expect(file.status).toBe(200);
    expect(await file.text()).toContain('<svg');
  });

  it('fails and releases the hold once when the provider reports a failure', async () => {
    const user = await createUser(db, { credits: 10 });
    fake.plan({ outcome: 'failed', webhookCopies: 3 });
    const created = await generate(user);
    const row = await finished(created.id);
    expect(row.status).toBe('failed');
    expect(row.error).toContain('CUDA out of memory');
    expect(await refundsOf(created.id)).toBe(0);
    expect(await releasesOf(created.id)).toBe(1);
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({ balance: 10, held: 0 });
    await expectLedgerConsistent(user);
  });

  it('applies duplicate, concurrent and out-of-order callbacks once', async () => {
    const user = await createUser(db, { credits: 10 });
    fake.plan({ outputs: 3, webhookCopies: 6, staleAfter: true });
    const created = await generate(user, 3);
    const row = await finished(created.id);
    expect(row.status).toBe('succeeded');
    // A few more replays after the fact.
    const predictionId = row.providerPredictionId as string;
    const statuses = await Promise.all([1, 2, 3].map(() => fake.sendWebhook(predictionId)));
    expect(statuses).toEqual([200, 200, 200]);
    expect((await rowOf(created.id)).images).toHaveLength(3);
    expect(await db.orm.em.fork().count(StorageObject, { user: user.id })).toBe(3);
    expect(await refundsOf(created.id)).toBe(0);
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({ balance: 7 });
  });

  it('retries a provider that is briefly down, charging once', async () => {
    const user = await createUser(db, { credits: 10 });
    fake.plan({ failCreates: 2 });
    const created = await generate(user, 1);
    const row = await finished(created.id);
    expect(row.status).toBe('succeeded');
    expect(row.attempts).toBe(3);
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({ balance: 9 });
  }, 60_000);

  it('rejects a tampered or unsigned webhook with 400 and changes nothing', async () => {
    const user = await createUser(db, { credits: 10 });
    fake.plan({ hold: true });
    const created = await generate(user, 1);
    const predictionId = await predictionOf(created.id);
    // Signed as "succeeded", delivered as "failed".
    expect(await fake.sendWebhook(predictionId, { tamper: true, status: 'succeeded' })).toBe(400);
    const unsigned = await fetch(`${server.baseUrl}/webhooks/provider/replicate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: predictionId, status: 'failed' }),
    });
    expect(unsigned.status).toBe(400);
    expect((await rowOf(created.id)).status).toBe('running');
    await fake.release(predictionId);
    expect((await finished(created.id)).status).toBe('succeeded');
  });

  it('polls for the result when it cannot be called back', async () => {
    db.runtime.webhookBaseUrl = null;
    try {
      const user = await createUser(db, { credits: 10 });
      fake.plan({ hold: true });
      const created = await generate(user, 1);
      const predictionId = await predictionOf(created.id);
      expect(fake.predictions.get(predictionId)?.webhook).toBeUndefined();
      await fake.release(predictionId);
      expect((await finished(created.id)).status).toBe('succeeded');
    } finally {
      db.runtime.webhookBaseUrl = server.baseUrl;
    }
  });

  it('cancels at the provider, releases the hold once, and discards a late result', async () => {
    const user = await createUser(db, { credits: 10 });
    fake.plan({ hold: true });
    const created = await generate(user, 2);
    const predictionId = await predictionOf(created.id);
    const caller = callerFor(db, user);
    await expect(caller.generations.cancel({ id: created.id })).resolves.toMatchObject({
      status: 'canceled',
    });
    await waitFor(async () => fake.predictions.get(predictionId)?.status === 'canceled', {
      what: 'the remote cancel',
    });
    // The provider finishes anyway and calls back: nothing changes.
    const prediction = fake.predictions.get(predictionId);
    if (prediction) prediction.status = 'processing';
    await fake.release(predictionId);
    const row = await rowOf(created.id);
    expect(row.status).toBe('canceled');
    expect(row.images ?? []).toHaveLength(0);
    expect(await refundsOf(created.id)).toBe(0);
    expect(await releasesOf(created.id)).toBe(1);
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 10, held: 0 });
    await expectLedgerConsistent(user);
  });
});
