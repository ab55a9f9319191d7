// GET /metrics through the real app: the token, the Prometheus text, procedure histograms moving
// with real calls, the pool, job queues (depth and age), the webhook backlog, and the ledger drift
// recorded by the ledger-verify job.
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.ts';
import { ConfigError, loadConfig } from '../../server/config.ts';
import { QUEUES } from '../../server/modules/jobs/queue.ts';
import { VerifyRun } from '../../server/modules/metrics/verify-run.entity.ts';
import { setupTestDatabase } from '../support/database.ts';
import { createUser } from '../support/factories.ts';
import { httpClient, setupTestServer } from '../support/http.ts';
import { waitFor } from '../support/wait.ts';

const TOKEN = 'metrics-token-for-tests-0123456789';
const db = setupTestDatabase({ env: { METRICS_TOKEN: TOKEN } });
const server = setupTestServer(db);

const scrape = async (authorization = `Bearer ${TOKEN}`) =>
  fetch(`${server.baseUrl}/metrics`, { headers: { authorization } });

/** The value of one series in a scrape (`name{labels}` exactly as exposed), or undefined. */
async function sample(series: string): Promise<number | undefined> {
  const text = await (await scrape()).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
});

describe('GET /metrics', () => {
  it('answers only the bearer of METRICS_TOKEN', async () => {
    const missing = await fetch(`${server.baseUrl}/metrics`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    expect((await scrape('Bearer not-the-token')).status).toBe(401);
    expect((await scrape(TOKEN)).status).toBe(401);
    const ok = await scrape();
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(ok.headers.get('cache-control')).toBe('no-store');
  });

  it('is not served at all without a token configured, and a short token stops the start', async () => {
    const app = await createApp({ ...db.deps, config: loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'error' }) });
    const listening = app.listen(0, '127.0.0.1');
    await new Promise((ready) => listening.once('listening', ready));
    closers.push(() => new Promise((done) => listening.close(() => done())));
    const port = (listening.address() as AddressInfo).port;
    const response = await fetch(`http://127.0.0.1:${port}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(404);
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(ConfigError);
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN: must be at least 16/);
  });

  it('exposes process metrics and the pool, in Prometheus text format', async () => {
    const text = await (await scrape()).text();
    expect(text).toMatch(/^# HELP process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
    expect(text).toMatch(/^# TYPE forgeline_db_pool_in_use gauge$/m);
    for (const name of ['in_use', 'idle', 'waiting']) {
      expect(
        Number(text.match(new RegExp(`^forgeline_db_pool_${name} (\\d+)$`, 'm'))?.[1]),
      ).toBeGreaterThanOrEqual(0);
    }
    expect(text).toMatch(/^forgeline_db_pool_max 20$/m);
    // Every source was read (a failing one would be counted here).
    expect(text).not.toContain('forgeline_metrics_collect_errors_total{');
  });

  it('counts and times each procedure under its path, and counts failures by code', async () => {
    const series = 'forgeline_trpc_procedure_duration_seconds_count{procedure="credits.balance"}';
    const before = (await sample(series)) ?? 0;
    const { client } = httpClient(server);
    await client.auth.signUp.mutate({
      email: `m-${Date.now()}@example.test`,
      password: 'a long enough password',
      name: 'M',
    });
    await Promise.all([1, 2, 3].map(() => client.credits.balance.query()));
    expect(await sample(series)).toBe(before + 3);
    expect(
      await sample('forgeline_trpc_procedure_duration_seconds_bucket{le="+Inf",procedure="credits.balance"}'),
    ).toBe(before + 3);
    expect(
      await sample('forgeline_trpc_procedure_duration_seconds_count{procedure="auth.signUp"}'),
    ).toBeGreaterThanOrEqual(1);

    const failures = 'forgeline_trpc_procedure_errors_total{procedure="credits.balance",code="UNAUTHORIZED"}';
    const failedBefore = (await sample(failures)) ?? 0;
    const anonymous = httpClient(server).client;
    await expect(anonymous.credits.balance.query()).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    expect(await sample(failures)).toBe(failedBefore + 1);
    // Unknown paths never reach a procedure: no series for them.
    await fetch(`${server.baseUrl}/trpc/no.such.procedure`);
    expect((await (await scrape()).text()).includes('procedure="no.such.procedure"')).toBe(false);
  });

  it('reports each job queue: ready, deferred and active jobs, and the oldest ready job’s wait', async () => {
    const { boss } = db.runtime.jobs;
    const ready = (queue: string) => sample(`forgeline_queue_jobs{queue="${queue}",state="ready"}`);
    expect(await ready(QUEUES.retention)).toBe(0);
    expect(await sample(`forgeline_queue_oldest_ready_seconds{queue="${QUEUES.retention}"}`)).toBe(0);

    // No worker runs in this file: jobs sent now stay queued.
    await boss.send(QUEUES.retention, {});
    await boss.send(QUEUES.retention, {}, { startAfter: 3600 });
    const waiting = await boss.send(QUEUES.retention, {});
    await db.orm.em
      .fork()
      .getConnection()
      .execute(`update pgboss.job set start_after = now() - interval '90 seconds' where id = ?`, [waiting]);
    expect(await ready(QUEUES.retention)).toBe(2);
    expect(await sample(`forgeline_queue_jobs{queue="${QUEUES.retention}",state="deferred"}`)).toBe(1);
    expect(await sample(`forgeline_queue_jobs{queue="${QUEUES.retention}",state="active"}`)).toBe(0);
    expect(
      await sample(`forgeline_queue_oldest_ready_seconds{queue="${QUEUES.retention}"}`),
    ).toBeGreaterThanOrEqual(90);
    // Every queue is listed, busy or not.
    expect(await ready(QUEUES.projectDeployDead)).toBe(0);
  });

  it('reports the webhook backlog: pending and failing events, and the oldest one’s age', async () => {
    expect(await sample('forgeline_webhook_events_pending{provider="stripe"}')).toBe(0);
    expect(await sample('forgeline_webhook_oldest_pending_seconds{provider="polar"}')).toBe(0);
    await db.orm.em
      .fork()
      .getConnection()
      .execute(
        `insert into webhook_events (id, provider, event_id, type, payload, received_at, processed_at, error, attempts)
         values (gen_random_uuid(), 'stripe', 'evt_done', 'invoice.paid', '{}', now() - interval '1 hour', now(), null, 1),
                (gen_random_uuid(), 'stripe', 'evt_failing', 'invoice.paid', '{}', now() - interval '120 seconds', null, 'boom', 3),
                (gen_random_uuid(), 'stripe', 'evt_new', 'invoice.paid', '{}', now(), null, null, 0)`,
      );
    expect(await sample('forgeline_webhook_events_pending{provider="stripe"}')).toBe(2);
    expect(await sample('forgeline_webhook_events_failing{provider="stripe"}')).toBe(1);
    expect(
      await sample('forgeline_webhook_oldest_pending_seconds{provider="stripe"}'),
    ).toBeGreaterThanOrEqual(120);
    expect(await sample('forgeline_webhook_events_pending{provider="polar"}')).toBe(0);
    await db.orm.em.fork().getConnection().execute(`delete from webhook_events where event_id like 'evt_%'`);
  });

  it('reports the ledger drift found by the last verify run (the hourly ledger-verify job)', async () => {
    expect(await sample('forgeline_ledger_verify_last_run_timestamp_seconds')).toBe(0);
    const user = await createUser(db, { credits: 10 });
    const em = db.orm.em.fork();
    // A balance the ledger does not explain (what db:verify exists to catch).
    await em
      .getConnection()
      .execute('update credit_balances set balance = balance + 7 where user_id = ?', [user.id]);
    try {
      await db.runtime.startWorkers({ concurrency: 1, pollIntervalMs: 100 });
      await db.runtime.jobs.boss.send(QUEUES.ledgerVerify, {});
      const run = await waitFor(() => db.orm.em.fork().findOne(VerifyRun, { source: 'job' }), {
        what: 'the ledger-verify job to record its run',
      });
      expect(run.drift).toBe(7);
      expect(run.byCheck['balance equals the sum of the ledger']).toBe(1);
      expect(run.violations).toBe(Object.values(run.byCheck).reduce((sum, n) => sum + n, 0));
      expect(await sample('forgeline_ledger_drift_credits')).toBe(7);
      expect(
        await sample('forgeline_ledger_verify_violations{check="balance equals the sum of the ledger"}'),
      ).toBe(1);
      expect(await sample('forgeline_ledger_verify_violations{check="balance is never negative"}')).toBe(0);
      expect(
        Date.now() / 1000 - ((await sample('forgeline_ledger_verify_last_run_timestamp_seconds')) ?? 0),
      ).toBeLessThan(60);
      expect(await sample('forgeline_ledger_verify_duration_seconds')).toBeGreaterThanOrEqual(0);
      expect((await (await scrape()).text()).includes('forgeline_metrics_collect_errors_total{')).toBe(false);
    } finally {
      await em
        .getConnection()
        .execute('update credit_balances set balance = balance - 7 where user_id = ?', [user.id]);
    }
  });
});
