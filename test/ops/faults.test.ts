// Faults of the embedded database, for real: `node server/main.ts` runs its own embedded
// PostgreSQL; under load the test SIGKILLs the postmaster. The server notices, restarts it (bounded
// attempts with backoff) and meanwhile /ready says 503 and tRPC calls answer SERVICE_UNAVAILABLE
// (HTTP 503 with Retry-After), never INTERNAL_SERVER_ERROR. Once it is back, work resumes by itself:
// the job queue, the LISTEN connection behind live events (an SSE client opened before the crash
// sees a generation finish after it), the mail loop; nothing was half-written (db:verify, one
// charge per acknowledged generation, client retries with the same idempotency key charge once).
// When PostgreSQL cannot come back, the server gives up after EMBEDDED_PG_RESTARTS and exits 1.
//
// To hold the database down long enough to look (and to make the restart fail on purpose), the
// test SIGSTOPs the old checkpointer before killing the postmaster: while an orphan still holds the
// old shared memory PostgreSQL refuses to start ("pre-existing shared memory block is still in use").
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { makeTempDir } from '../../server/db/embedded-postgres.ts';
import { createOrm } from '../../server/db/orm.ts';
import { verifyInvariants } from '../../server/db/verify.ts';
import { freePort } from '../bench/processes.ts';
import { httpClient } from '../support/http.ts';
import { createTestLogger } from '../support/logger.ts';
import {
  embeddedUrl,
  isRunning,
  openSse,
  postgresChild,
  postmasterOf,
  rawTrpc,
  type Spawned,
  spawnNode,
} from '../support/processes.ts';
import { waitFor } from '../support/wait.ts';

const root = makeTempDir('forgeline-faults-');
const dataDir = join(root, 'data');
const pgDir = join(dataDir, 'pg');
let app: Spawned;
let baseUrl: string;
const stopped: number[] = [];

beforeAll(async () => {
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  app = spawnNode('server/main.ts', ['--no-client-build'], {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: baseUrl,
    DATA_DIR: dataDir,
    DATABASE_URL: '',
    EMBEDDED_PG_RESTARTS: '6',
  });
  await app.waitForOutput('Forgeline is running at');
}, 240_000);

afterAll(async () => {
  for (const pid of stopped) if (isRunning(pid)) process.kill(pid, 'SIGCONT');
  await app?.stop();
  rmSync(root, { recursive: true, force: true });
});

async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: embeddedUrl(pgDir) });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Kills the postmaster with a frozen orphan left holding its shared memory; returns the orphan. */
function crashDatabase(): number {
  const postmaster = postmasterOf(pgDir);
  const orphan = postgresChild(postmaster.pid, 'checkpointer');
  process.kill(orphan, 'SIGSTOP');
  stopped.push(orphan);
  process.kill(postmaster.pid, 'SIGKILL');
  return orphan;
}

type Outcome = { key: string; result: 'ok' | 'unavailable' | 'other'; id?: string; status?: number };

describe('the embedded PostgreSQL killed under load', () => {
  it('answers 503 while it is down, restarts it, and everything resumes with nothing lost', async () => {
    const { client, jar } = httpClient({ baseUrl });
    const email = `faults-${Date.now()}@example.test`;
    await client.auth.signUp.mutate({ email, password: 'correct horse battery staple', name: 'Faults' });
    const cookie = jar.header();
    const sse = await openSse(`${baseUrl}/trpc/generations.onUpdate`, cookie);

    // Load: two clients creating generations, each stopping at its first failure (as a client
    // would, to retry later with the same idempotency key).
    const outcomes: Outcome[] = [];
    let next = 0;
    const loop = async () => {
      for (;;) {
        const key = `fault-load-${next++}`;
        const response = await rawTrpc(
          baseUrl,
          'mutation',
          'generations.create',
          { kind: 'text', input: { prompt: `a note about fault ${key}` }, idempotencyKey: key },
          cookie,
        ).catch(() => ({ status: 0, headers: new Headers(), body: null }));
        const body = response.body as { result?: { data: { json: { id: string } } } } | null;
        if (response.status === 200 && body?.result) {
          outcomes.push({ key, result: 'ok', id: body.result.data.json.id });
          continue;
        }
        outcomes.push({
          key,
          result: response.status === 503 ? 'unavailable' : 'other',
          status: response.status,
        });
        return;
      }
    };
    const load = Promise.all([loop(), loop()]);
    await waitFor(async () => outcomes.length >= 10, { timeoutMs: 60_000, what: 'load to be running' });

    const orphan = crashDatabase();
    const crashedAt = Date.now();

    // Down: /ready is 503, calls are 503 with Retry-After, never a 500.
    await waitFor(async () => (await fetch(`${baseUrl}/ready`)).status === 503, {
      what: '/ready to say 503',
    });
    const read = await rawTrpc(baseUrl, 'query', 'credits.balance', undefined, cookie);
    expect(read.status).toBe(503);
    expect(read.headers.get('retry-after')).toBe('5');
    expect(JSON.stringify(read.body)).toContain('SERVICE_UNAVAILABLE');
    const write = await rawTrpc(
      baseUrl,
      'mutation',
      'generations.create',
      { kind: 'text', input: { prompt: 'while the database is down' }, idempotencyKey: 'fault-while-down' },
      cookie,
    );
    expect(write.status).toBe(503);
    expect(write.headers.get('retry-after')).toBe('5');
    const mail = await rawTrpc(baseUrl, 'mutation', 'auth.requestPasswordReset', { email });
    expect(mail.status).toBe(503);
    await load;
    expect(outcomes.filter((o) => o.result === 'other')).toEqual([]);

    // The orphan lets go: the next restart attempt succeeds.
    process.kill(orphan, 'SIGCONT');
    await waitFor(async () => (await fetch(`${baseUrl}/ready`).catch(() => null))?.status === 200, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: '/ready to be 200 again',
    });
    console.info(
      `embedded PostgreSQL back ${Date.now() - crashedAt} ms after SIGKILL (held down on purpose)`,
    );
    expect(app.output()).toMatch(/embedded PostgreSQL stopped; restarting it/);
    expect(app.output()).toMatch(/embedded PostgreSQL is back/);

    // Clients retry what failed, with the same keys: each key is charged at most once.
    const retried = outcomes.filter((o) => o.result === 'unavailable').map((o) => o.key);
    retried.push('fault-while-down');
    for (const key of retried) {
      const again = await client.generations.create.mutate({
        kind: 'text',
        input: { prompt: `a note about fault ${key}` },
        idempotencyKey: key,
      });
      outcomes.push({ key, result: 'ok', id: again.id });
    }
    // Work resumes: a new generation runs on the queue and its end reaches the SSE client opened
    // before the crash; the mail loop delivers a reset mail asked for now.
    const after = await client.generations.create.mutate({
      kind: 'text',
      input: { prompt: 'after the restart' },
    });
    await sse.waitFor((line) => line.includes(after.id) && line.includes('"succeeded"'));
    await client.auth.requestPasswordReset.mutate({ email });
    await waitFor(
      async () =>
        (await query('select 1 from mail_outbox where "to" = $1 and sent_at is not null', [email])).length >
        0,
      { timeoutMs: 60_000, what: 'the reset mail to be delivered' },
    );
    sse.close();

    // Every generation, including any caught in flight by the crash, ends; nothing half-written.
    await waitFor(
      async () =>
        (
          await query<{ n: string }>(
            `select count(*) as n from generations where status in ('queued', 'running')`,
          )
        )[0]?.n === '0',
      { timeoutMs: 150_000, intervalMs: 500, what: 'every generation to finish' },
    );
    const rows = await query<{ id: string; key: string | null; usage: string; job: string }>(
      `select g.id, g.idempotency_key as key,
              (select count(*) from credit_transactions t where t.generation_id = g.id and t.type = 'usage') as usage,
              (select count(*) from pgboss.job j where j.data->>'generationId' = g.id::text) as job
         from generations g`,
    );
    const acknowledged = new Set(outcomes.filter((o) => o.result === 'ok').map((o) => o.id));
    for (const id of acknowledged) expect(rows.some((row) => row.id === id)).toBe(true);
    for (const row of rows) {
      expect(row.usage).toBe('1'); // charged exactly once
      expect(Number(row.job)).toBeGreaterThanOrEqual(1); // and it had its job
    }
    const keys = rows.map((row) => row.key).filter(Boolean);
    expect(new Set(keys).size).toBe(keys.length);
    const orm = await createOrm(embeddedUrl(pgDir), loadConfig({ NODE_ENV: 'test' }), createTestLogger());
    try {
      expect(await verifyInvariants(orm.em.fork())).toEqual([]);
    } finally {
      await orm.close(true);
    }
  }, 420_000);

  it('gives up after EMBEDDED_PG_RESTARTS failed restarts and exits 1 for its supervisor', async () => {
    const orphan = crashDatabase();
    const code = await app.exited;
    expect(code).toBe(1);
    expect(app.output()).toMatch(/restart attempt 6 failed|embedded PostgreSQL stays down/);
    process.kill(orphan, 'SIGCONT'); // the orphan notices its postmaster is gone and exits
    await waitFor(async () => !isRunning(orphan), { what: 'the orphaned checkpointer to exit' });
  }, 180_000);
});
