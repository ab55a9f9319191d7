// The real Express app on an ephemeral port (and a second one on the same database, as another API
// process), and a vanilla tRPC client that keeps cookies like a browser and sends the CSRF header
// like our clients do.
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import superjson from 'superjson';
import { afterAll, beforeAll } from 'vitest';
import { createApp } from '../../server/app.ts';
import { makeTempDir } from '../../server/db/embedded-postgres.ts';
import { createOrm } from '../../server/db/orm.ts';
import type { AppRouter } from '../../server/router.ts';
import { type RuntimeOptions, startRuntime } from '../../server/runtime.ts';
import type { TestDatabase } from './database.ts';

export type TestServer = { baseUrl: string };

export function setupTestServer(db: TestDatabase, options: { clientDir?: string } = {}): TestServer {
  const server = {} as TestServer;
  let close = async () => {};
  beforeAll(async () => {
    const app = await createApp({ ...db.deps, ...options });
    const listening = app.listen(0, '127.0.0.1');
    await new Promise((ready) => listening.once('listening', ready));
    server.baseUrl = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
    close = () =>
      new Promise<void>((done) => {
        listening.close(() => done());
        listening.closeAllConnections();
      });
  });
  afterAll(() => close());
  return server;
}

/**
 * A second API process on the same database, as behind a load balancer: its own ORM pool, its own
 * runtime (LISTEN connection, job queue client) and its own Express app. No job worker runs in it.
 */
export function setupPeerServer(
  db: TestDatabase,
  options: Pick<RuntimeOptions, 'accessRecheckMs'> = {},
): TestServer {
  const server = {} as TestServer;
  let close = async () => {};
  beforeAll(async () => {
    const orm = await createOrm(db.url, db.config, db.logger);
    const storageRoot = makeTempDir('forgeline-peer-files-');
    const runtime = await startRuntime({
      orm,
      databaseUrl: db.url,
      config: db.config,
      logger: db.logger,
      storageRoot,
      ...options,
    });
    const app = await createApp({ orm, config: db.config, logger: db.logger, runtime });
    const listening = app.listen(0, '127.0.0.1');
    await new Promise((ready) => listening.once('listening', ready));
    server.baseUrl = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
    close = async () => {
      await new Promise<void>((done) => {
        listening.close(() => done());
        listening.closeAllConnections();
      });
      await runtime.stop();
      await orm.close(true);
      rmSync(storageRoot, { recursive: true, force: true });
    };
  });
  afterAll(() => close());
  return server;
}

/** Cookies by name, as a browser would keep them for one site. */
export class CookieJar {
  readonly #cookies = new Map<string, string>();
  store(response: Response) {
    for (const header of response.headers.getSetCookie()) {
      const [pair = ''] = header.split(';');
      const [name = '', value = ''] = pair.split('=');
      if (/Max-Age=0/i.test(header) || value === '') this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
  get(name: string) {
    return this.#cookies.get(name);
  }
}

export function httpClient(
  server: TestServer,
  options: { csrf?: boolean; jar?: CookieJar; apiKey?: string } = {},
) {
  const jar = options.jar ?? new CookieJar();
  const client = createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${server.baseUrl}/trpc`,
        transformer: superjson,
        headers: () => ({
          ...(options.csrf === false ? {} : { 'x-csrf-protection': '1' }),
          ...(jar.header() ? { cookie: jar.header() } : {}),
          ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
        }),
        fetch: async (url, init) => {
          const response = await fetch(url, init as RequestInit);
          jar.store(response);
          return response;
        },
      }),
    ],
  });
  return { client, jar };
}

/** Awaits an HTTP call that must fail and returns the tRPC client's error (code, message, data). */
export async function clientError(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCClientError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}
