// Spec invariant 3 under a crash: a real worker process is SIGKILLed in the middle of a
// generation; the queue notices the missing heartbeat, another worker resumes the same
// prediction, and the user is charged once and refunded never (or, on failure, refunded once).
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../server/db/embedded-postgres.ts';
import { verifyInvariants } from '../../server/db/verify.ts';
import { CreditTransaction } from '../../server/modules/credits/credit-transaction.entity.ts';
import { Generation } from '../../server/modules/generations/generation.entity.ts';
import { createReplicateProvider } from '../../server/modules/generations/providers/replicate-provider.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { createUser } from '../support/factories.ts';
import { type FakeReplicate, startFakeReplicate } from '../support/fake-replicate.ts';
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
const dataDir = makeTempDir('forgeline-worker-');
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function startWorkerProcess() {
  const child = spawn(process.execPath, ['server/worker.ts'], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: db.url,
      DATA_DIR: dataDir,
      AI_PROVIDER: 'replicate',
      AI_PROVIDER_URL: fake.url,
      AI_PROVIDER_TOKEN: TOKEN,
      LOG_LEVEL: 'error',
      WORKER_SUPERVISE_SECONDS: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('worker ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
  });
  return { child, ready };
}

describe('a worker killed mid-generation', () => {
  it('is recovered by another worker, which finishes the same prediction: charged once, no refund', async () => {
    const user = await createUser(db, { credits: 10 });
    const worker = startWorkerProcess();
    await worker.ready;

    fake.plan({ hold: true, outputs: 1 });
    const created = await callerFor(db, user).generations.create({
      kind: 'logo',
      input: { appName: 'Crash', appFocus: 'resilience testing', color1: '#111111', color2: '#eeeeee' },
    });
    const predictionId = await waitFor(
      async () => (await db.orm.em.fork().findOneOrFail(Generation, { id: created.id })).providerPredictionId,
      { what: 'the first worker to start the prediction' },
    );

    worker.child.kill('SIGKILL');
    await new Promise((resolve) => worker.child.once('exit', resolve));
    const killedAt = Date.now();

    // A fresh worker (this process) takes over once the dead one's heartbeat lapses.
    await db.runtime.startWorkers({ pollIntervalMs: 100 });
    const resumed = await waitFor(
      async () => {
        const row = await db.orm.em.fork().findOneOrFail(Generation, { id: created.id });
        return row.attempts >= 2 ? row : null;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: 'the job to be picked up again' },
    );
    const recoveryMs = Date.now() - killedAt;
    console.info(`worker crash recovery: job resumed ${recoveryMs} ms after SIGKILL`);
    expect(resumed.providerPredictionId).toBe(predictionId); // resumed, not re-created

    await fake.release(predictionId);
    const done = await waitFor(
      async () => {
        const row = await db.orm.em.fork().findOneOrFail(Generation, { id: created.id });
        return row.status === 'succeeded' ? row : null;
      },
      { what: 'the generation to succeed' },
    );
    expect(done.images).toHaveLength(1);
    expect(fake.predictions.size).toBe(1);
    const em = db.orm.em.fork();
    expect(await em.count(CreditTransaction, { generation: created.id, type: 'usage' })).toBe(1);
    expect(await em.count(CreditTransaction, { generation: created.id, type: 'refund' })).toBe(0);
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({ balance: 9 });
    expect(await verifyInvariants(em, { userIds: [user.id] })).toEqual([]);
  }, 90_000);
});
