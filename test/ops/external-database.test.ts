// An external database (DATABASE_URL: nobody here restarts it) goes away and comes back. The app
// in this process answers SERVICE_UNAVAILABLE (503 + Retry-After) meanwhile — tRPC calls, the
// context's session lookup, plain routes — logs no error (an error log fails the test), and when
// the server is back, calls, the job queue and live events work again without a restart.

import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import {
  type EmbeddedPostgres,
  makeTempDir,
  startEmbeddedPostgres,
} from '../../server/db/embedded-postgres.ts';
import { createOrm, migrateToLatest } from '../../server/db/orm.ts';
import { verifyInvariants } from '../../server/db/verify.ts';
import { startJobs } from '../../server/modules/jobs/queue.ts';
import { ensureSettings } from '../../server/modules/settings/settings.service.ts';
import { type Runtime, startRuntime } from '../../server/runtime.ts';
import { httpClient } from '../support/http.ts';
import { createTestLogger } from '../support/logger.ts';
import { openSse, rawTrpc } from '../support/processes.ts';
import { waitFor } from '../support/wait.ts';

const root = makeTempDir('forgeline-external-');
const dir = join(root, 'pg');
let server: EmbeddedPostgres;
let orm: MikroORM;
let runtime: Runtime;
let baseUrl: string;
let close = async () => {};

beforeAll(async () => {
  server = await startEmbeddedPostgres({ dir, settings: { fsync: 'off' } });
  await server.createDatabase('forgeline');
  const url = server.url('forgeline');
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    DATABASE_URL: url,
    PGPOOL_CONN_TIMEOUT_MS: '2000',
  });
  const logger = createTestLogger();
  orm = await createOrm(url, config, logger);
  await migrateToLatest(orm);
  await ensureSettings(orm.em.fork());
  await (await startJobs({ url, logger })).stop();
  runtime = await startRuntime({ orm, databaseUrl: url, config, logger, superviseIntervalSeconds: 1 });
  await runtime.startWorkers({ pollIntervalMs: 100 });
  const app = await createApp({ orm, config, logger, runtime });
  const listening = app.listen(0, '127.0.0.1');
  await new Promise((ready) => listening.once('listening', ready));
  baseUrl = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
  close = () =>
    new Promise<void>((done) => {
      listening.close(() => done());
      listening.closeAllConnections();
    });
}, 120_000);

afterAll(async () => {
  await close();
  await runtime?.stop();
  await orm?.close(true);
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('an external database that goes away and comes back', () => {
  it('answers 503 with Retry-After while it is gone, and resumes by itself', async () => {
    const { client, jar } = httpClient({ baseUrl });
    const email = `external-${Date.now()}@example.test`;
    await client.auth.signUp.mutate({ email, password: 'correct horse battery staple', name: 'External' });
    const cookie = jar.header();
    const sse = await openSse(`${baseUrl}/trpc/generations.onUpdate`, cookie);
    const before = await client.generations.create.mutate({
      kind: 'text',
      input: { prompt: 'before the outage' },
    });
    await sse.waitFor((line) => line.includes(before.id) && line.includes('"succeeded"'));

    const port = server.port;
    process.kill(server.pid() as number, 'SIGKILL');
    await server.stop(); // nothing to stop any more; forget the handle

    await waitFor(async () => (await fetch(`${baseUrl}/ready`)).status === 503, {
      what: '/ready to say 503',
    });
    // The session lookup (before any procedure), a query, a mutation: all 503, none 500.
    for (const [type, path, input] of [
      ['query', 'credits.balance', undefined],
      ['mutation', 'generations.create', { kind: 'text', input: { prompt: 'during the outage' } }],
    ] as const) {
      const response = await rawTrpc(baseUrl, type, path, input, cookie);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(JSON.stringify(response.body)).toContain('The database is unavailable right now');
    }
    const anonymous = await rawTrpc(baseUrl, 'mutation', 'auth.requestPasswordReset', { email });
    expect(anonymous.status).toBe(503);
    const file = await fetch(`${baseUrl}/files/00000000-0000-4000-8000-000000000000`, {
      headers: { cookie },
    });
    expect(file.status).toBe(503);
    expect(file.headers.get('retry-after')).toBe('5');

    // The database comes back on the same address.
    server = await startEmbeddedPostgres({ dir, port, settings: { fsync: 'off' } });
    await waitFor(async () => (await fetch(`${baseUrl}/ready`)).status === 200, { what: '/ready to be 200' });
    const after = await client.generations.create.mutate({
      kind: 'text',
      input: { prompt: 'after the outage' },
    });
    await sse.waitFor((line) => line.includes(after.id) && line.includes('"succeeded"'));
    await expect(client.credits.balance.query()).resolves.toMatchObject({ balance: 98 });
    sse.close();
    expect(await verifyInvariants(orm.em.fork())).toEqual([]);
  }, 180_000);
});
