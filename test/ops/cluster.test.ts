// The scale-out path, rehearsed on one machine with `npm run cluster` itself (server/cluster.ts):
// an embedded PostgreSQL primary and a streaming hot standby made from it, two API processes
// behind node:cluster's round-robin balancer (read replica = the standby), two job workers.
// Under load from many connections: the load spreads over both API processes; a user with 100
// credits asking for 130 generations at once gets exactly 100 held (no overdraw); cancels raced
// through both processes release their holds once; an SSE client on api-1 sees a generation asked of api-2 finished by a
// worker process; one API process and one worker are SIGKILLed mid-load and nothing is lost (every
// acknowledged generation exists, held once, and finishes — captured once or released; client
// retries with the same idempotency key never hold twice); the admin's heavy reads are served by the replica;
// db:verify is clean on the primary and the replica catches up. Replica lag and throughput are
// printed (README, "Scaling out").

import { rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { makeTempDir } from '../../server/db/embedded-postgres.ts';
import { createOrm } from '../../server/db/orm.ts';
import { verifyInvariants } from '../../server/db/verify.ts';
import { freePort } from '../bench/processes.ts';
import { createTestLogger } from '../support/logger.ts';
import { httpCall, isRunning, openSse, type Spawned, spawnNode } from '../support/processes.ts';
import { waitFor } from '../support/wait.ts';

type Member = { name: string; pid: number };
type ClusterEvent = {
  event: string;
  name?: string;
  pid?: number;
  url?: string;
  primary?: { url: string; pid: number; dir: string };
  standby?: { url: string; pid: number; dir: string };
  api?: Member[];
  workers?: Member[];
  admin?: { email: string; password: string } | null;
};

const root = makeTempDir('forgeline-cluster-');
let cluster: Spawned;
let base: string;
let ready: ClusterEvent;

const events = (): ClusterEvent[] =>
  cluster
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as ClusterEvent);
const waitForEvent = (what: string, match: (event: ClusterEvent) => boolean, timeoutMs = 180_000) =>
  waitFor(async () => events().find(match), { timeoutMs, intervalMs: 100, what });

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  cluster = spawnNode('server/cluster.ts', ['--json', '--no-client-build'], {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATA_DIR: join(root, 'data'),
    DATABASE_URL: '',
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: base,
    // A dead worker's jobs are noticed within a second or two (the default looks every 30 s).
    WORKER_SUPERVISE_SECONDS: '1',
  });
  ready = await waitForEvent('the cluster to be ready', (event) => event.event === 'ready', 300_000);
}, 320_000);

afterAll(async () => {
  if (cluster) {
    const code = await cluster.stop('SIGTERM');
    expect(code).toBe(0);
    expect(events().at(-1)?.event).toBe('stopped');
    for (const pid of [ready?.primary?.pid, ready?.standby?.pid]) {
      if (pid) expect(isRunning(pid)).toBe(false);
    }
  }
  rmSync(root, { recursive: true, force: true });
}, 120_000);

async function sql<T extends pg.QueryResultRow>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

const keepAlive = new Agent({ keepAlive: true, maxSockets: 64 });
const served = new Map<string, number>();

type Answer = { status: number; instance: string; data: unknown; error: unknown; cookie: string | null };

/** A tRPC call over HTTP through the balancer (`fresh`: on a new connection, i.e. the next process). */
async function trpc(
  type: 'query' | 'mutation',
  path: string,
  input: unknown,
  { cookie, fresh = false }: { cookie?: string; fresh?: boolean } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { 'x-csrf-protection': '1', ...(cookie ? { cookie } : {}) };
  const encoded = input === undefined ? undefined : JSON.stringify({ json: input });
  const agent = fresh ? false : keepAlive;
  const answer =
    type === 'query'
      ? await httpCall(`${base}/trpc/${path}${encoded ? `?input=${encodeURIComponent(encoded)}` : ''}`, {
          headers,
          agent,
        })
      : await httpCall(`${base}/trpc/${path}`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: encoded ?? '{}',
          agent,
        });
  const instance = String(answer.headers['x-forgeline-instance'] ?? '');
  served.set(instance, (served.get(instance) ?? 0) + 1);
  const body = JSON.parse(answer.body) as { result?: { data: { json: unknown } }; error?: { json: unknown } };
  const setCookie = ([] as string[]).concat(answer.headers['set-cookie'] ?? []);
  const session = setCookie.find((value) => value.startsWith('forgeline_session='))?.split(';')[0] ?? null;
  return {
    status: answer.status,
    instance,
    data: body.result?.data.json,
    error: body.error?.json,
    cookie: session,
  };
}

/** A client that retries through failures (a killed process, 5xx) with the same request. */
async function persist(call: () => Promise<Answer>): Promise<Answer> {
  let last: unknown;
  for (let attempt = 0; attempt < 40; attempt++) {
    try {
      const answer = await call();
      if (answer.status < 500) return answer;
      last = answer;
    } catch (error) {
      last = error; // the connection died with its process
    }
  }
  throw new Error(`gave up: ${JSON.stringify(last)}`);
}

async function signUp(name: string): Promise<string> {
  const answer = await persist(() =>
    trpc('mutation', 'auth.signUp', {
      email: `${name}-${Date.now()}@example.test`,
      password: 'correct horse battery staple',
      name,
    }),
  );
  expect(answer.status).toBe(200);
  return answer.cookie as string;
}

/** Asks over new connections until `instance` answers (round-robin brings it within a few). */
async function via<T>(instance: string, call: () => Promise<T & { instance: string }>): Promise<T> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const answer = await call();
    if (answer.instance === instance) return answer;
  }
  throw new Error(`${instance} never answered`);
}

describe('npm run cluster: primary + hot standby, two API processes, two workers', () => {
  it('spreads load, never overdraws, releases holds once, loses nothing when processes die, and the replica keeps up', async () => {
    onTestFailed(() => {
      console.error(`the cluster's last output:\n${cluster.output().split('\n').slice(-80).join('\n')}`);
    });
    const primaryUrl = ready.primary?.url as string;
    const standbyUrl = ready.standby?.url as string;
    const [replication] = await sql<{ state: string }>(
      primaryUrl,
      `select state from pg_stat_replication where application_name = 'forgeline_standby'`,
    );
    expect(replication?.state).toBe('streaming');
    expect((await sql<{ r: boolean }>(standbyUrl, 'select pg_is_in_recovery() as r'))[0]?.r).toBe(true);

    const admin = await persist(() => trpc('mutation', 'auth.signIn', ready.admin));
    const adminCookie = admin.cookie as string;
    const hot = await signUp('hot');
    const users = await Promise.all(['u1', 'u2', 'u3', 'u4', 'u5', 'u6'].map(signUp));

    // Live events across processes: an SSE client on api-1, a generation asked of api-2.
    let sse = await openSse(`${base}/trpc/generations.onUpdate`, users[0] as string);
    for (let attempt = 0; sse.headers['x-forgeline-instance'] !== 'api-1'; attempt++) {
      if (attempt > 20) throw new Error('api-1 never took the SSE connection');
      sse.close();
      sse = await openSse(`${base}/trpc/generations.onUpdate`, users[0] as string);
    }
    const viaApi2 = await via('api-2', () =>
      trpc(
        'mutation',
        'generations.create',
        { kind: 'text', input: { prompt: 'across processes' } },
        {
          cookie: users[0],
          fresh: true,
        },
      ),
    );
    const crossId = (viaApi2.data as { id: string }).id;
    await sse.waitFor((line) => line.includes(crossId) && line.includes('"succeeded"'));
    const [ranBy] = await sql<{ by: string }>(
      primaryUrl,
      `select output->>'ranBy' as by from pgboss.job where name = 'generation-run' and data->>'generationId' = $1`,
      [crossId],
    );
    expect(ranBy?.by).toMatch(/^worker-[12]$/);
    console.info(`SSE on api-1 saw generation ${crossId} asked of api-2 and run by ${ranBy?.by}`);

    // The load: a shuffled queue of tasks worked by 16 concurrent clients.
    type Created = { key: string; id: string; user: string };
    const acknowledged: Created[] = [];
    const paymentRequired: string[] = [];
    const canceled: string[] = [];
    const tasks: (() => Promise<void>)[] = [];
    const create = async (cookie: string, key: string) => {
      const answer = await persist(() =>
        trpc(
          'mutation',
          'generations.create',
          { kind: 'text', input: { prompt: `load ${key}` }, idempotencyKey: key },
          {
            cookie,
          },
        ),
      );
      if (answer.status === 402) {
        paymentRequired.push(key);
        return null;
      }
      expect(answer.status, JSON.stringify(answer.error)).toBe(200);
      const id = (answer.data as { id: string }).id;
      acknowledged.push({ key, id, user: cookie });
      return id;
    };
    for (let i = 0; i < 130; i++) tasks.push(async () => void (await create(hot, `load-hot-${i}`)));
    users.forEach((cookie, u) => {
      for (let i = 0; i < 25; i++) {
        tasks.push(async () => {
          const id = await create(cookie, `load-u${u}-${i}`);
          if (!id || i % 3 !== 0) return;
          // Two cancels at once, on new connections: one through each API process.
          const answers = await Promise.all(
            [0, 1].map(() =>
              persist(() => trpc('mutation', 'generations.cancel', { id }, { cookie, fresh: true })),
            ),
          );
          for (const answer of answers) expect([200, 409]).toContain(answer.status);
          if (answers.some((answer) => answer.status === 200)) canceled.push(id);
        });
      }
    });
    for (let i = 0; i < 30; i++) {
      const [path, input] = (
        [
          ['admin.stats.overview', undefined],
          ['admin.users.list', { pageSize: 10 }],
          ['admin.credits.transactions', { limit: 20 }],
        ] as const
      )[i % 3] as readonly [string, unknown];
      tasks.push(async () => {
        const answer = await persist(() => trpc('query', path, input, { cookie: adminCookie }));
        expect(answer.status).toBe(200);
      });
    }
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = tasks.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [tasks[i], tasks[j]] = [tasks[j] as () => Promise<void>, tasks[i] as () => Promise<void>];
    }

    const lag: { bytes: number; ms: number }[] = [];
    let loading = true;
    const sampler = (async () => {
      while (loading) {
        const [row] = await sql<{ bytes: string; ms: string | null }>(
          primaryUrl,
          `select pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) as bytes,
                  extract(epoch from replay_lag) * 1000 as ms
             from pg_stat_replication where application_name = 'forgeline_standby'`,
        ).catch(() => []);
        if (row) lag.push({ bytes: Number(row.bytes), ms: Number(row.ms ?? 0) });
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();

    const killed: Member[] = [];
    let done = 0;
    const total = tasks.length;
    const started = Date.now();
    const load = Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let task = tasks.pop(); task; task = tasks.pop()) {
          await task();
          done++;
          if (done === Math.floor(total / 3)) {
            // Mid-load: SIGKILL one API process and one worker.
            const apiPid = ready.api?.find((member) => member.name === 'api-2')?.pid as number;
            const workerPid = ready.workers?.find((member) => member.name === 'worker-1')?.pid as number;
            process.kill(apiPid, 'SIGKILL');
            process.kill(workerPid, 'SIGKILL');
            killed.push({ name: 'api-2', pid: apiPid }, { name: 'worker-1', pid: workerPid });
          }
        }
      }),
    );
    try {
      await load;
    } finally {
      loading = false;
      await sampler;
    }
    const elapsed = (Date.now() - started) / 1000;
    console.info(`load done in ${elapsed.toFixed(1)} s`);

    expect(killed).toHaveLength(2);
    for (const { name, pid } of killed) {
      await waitForEvent(`${name} to be reported dead`, (e) => e.event === 'exit' && e.pid === pid);
      await waitForEvent(
        `${name} to be started again`,
        (e) => e.event === 'started' && e.name === name && e.pid !== pid,
      );
    }

    // Spread over both API processes.
    console.info(`answers by process: ${JSON.stringify(Object.fromEntries(served))}`);
    expect(served.get('api-1') ?? 0).toBeGreaterThan(20);
    expect(served.get('api-2') ?? 0).toBeGreaterThan(20);

    // No overdraw: 100 credits, 130 concurrent asks of 1 credit → exactly 100.
    expect(acknowledged.filter((created) => created.user === hot)).toHaveLength(100);
    expect(paymentRequired.filter((key) => key.startsWith('load-hot-'))).toHaveLength(30);
    const hotBalance = await persist(() => trpc('query', 'credits.balance', undefined, { cookie: hot }));
    expect(hotBalance.data).toMatchObject({ available: 0 });
    expect(canceled.length).toBeGreaterThan(0);

    // Nothing lost: every generation finishes (those the dead worker held included).
    await waitFor(
      async () =>
        (
          await sql<{ n: string }>(
            primaryUrl,
            `select count(*) as n from generations where status in ('queued', 'running')`,
          )
        )[0]?.n === '0',
      { timeoutMs: 180_000, intervalMs: 500, what: 'every generation to finish' },
    );
    const rows = await sql<{
      id: string;
      key: string | null;
      status: string;
      usage: string;
      refunds: string;
      hold: string | null;
    }>(
      primaryUrl,
      `select g.id, g.idempotency_key as key, g.status,
              (select count(*) from credit_transactions t where t.generation_id = g.id and t.type = 'usage') as usage,
              (select count(*) from credit_transactions t where t.generation_id = g.id and t.type = 'refund') as refunds,
              (select h.status from credit_holds h where h.generation_id = g.id) as hold
         from generations g`,
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const created of acknowledged) {
      const row = byId.get(created.id);
      expect(row?.key).toBe(created.key);
      // Held once; captured into one usage row if it succeeded, released (no ledger row) otherwise.
      expect(row?.usage).toBe(row?.status === 'succeeded' ? '1' : '0');
      expect(row?.hold).toBe(row?.status === 'succeeded' ? 'captured' : 'released');
    }
    for (const id of canceled)
      expect(byId.get(id)).toMatchObject({ status: 'canceled', hold: 'released', usage: '0' });
    for (const row of rows) expect(row.refunds).toBe('0');
    // No strays: the keyed generations are exactly the acknowledged ones.
    expect(
      rows
        .map((row) => row.key)
        .filter((key) => key !== null)
        .sort(),
    ).toEqual(acknowledged.map((created) => created.key).sort());

    const orm = await createOrm(primaryUrl, loadConfig({ NODE_ENV: 'test' }), createTestLogger());
    try {
      expect(await verifyInvariants(orm.em.fork())).toEqual([]);
    } finally {
      await orm.close(true);
    }

    // The replica served the admin's heavy reads, and catches up with everything.
    const replicaReads = await sql<{ n: string }>(
      standbyUrl,
      `select count(*) as n from pg_stat_activity where application_name = 'forgeline-replica-reads'`,
    );
    expect(Number(replicaReads[0]?.n)).toBeGreaterThan(0);
    const [{ lsn }] = (await sql<{ lsn: string }>(
      primaryUrl,
      'select pg_current_wal_lsn()::text as lsn',
    )) as [{ lsn: string }];
    await waitFor(
      async () =>
        (
          await sql<{ caught: boolean }>(
            standbyUrl,
            'select pg_last_wal_replay_lsn() >= $1::pg_lsn as caught',
            [lsn],
          )
        )[0]?.caught,
      { timeoutMs: 60_000, what: 'the replica to replay the primary' },
    );
    const totals = `select count(*) as n, coalesce(sum(amount), 0) as sum from credit_transactions`;
    expect(await sql(standbyUrl, totals)).toEqual(await sql(primaryUrl, totals));

    const sorted = lag.map((sample) => sample.bytes).sort((a, b) => a - b);
    const ms = lag.map((sample) => sample.ms).sort((a, b) => a - b);
    console.info(
      `cluster load: ${total} tasks (${acknowledged.length} generations, ${canceled.length} canceled) in ${elapsed.toFixed(1)} s ` +
        `with api-2 and worker-1 SIGKILLed mid-way; replica lag over ${lag.length} samples: ` +
        `median ${sorted[Math.floor(sorted.length / 2)]} B / ${ms[Math.floor(ms.length / 2)]?.toFixed(1)} ms, ` +
        `max ${sorted.at(-1)} B / ${ms.at(-1)?.toFixed(1)} ms`,
    );
    sse.close();
  }, 600_000);
});
