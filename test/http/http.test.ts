import { describe, expect, it } from 'vitest';
import { setupTestDatabase } from '../support/database.ts';
import { uniqueEmail } from '../support/factories.ts';
import { clientError, httpClient, setupTestServer } from '../support/http.ts';

const db = setupTestDatabase();
const server = setupTestServer(db);
const password = 'a long enough password';

describe('the HTTP API', () => {
  it('signs up, keeps the session cookie, and batches queries', async () => {
    const { client, jar } = httpClient(server);
    const me = await client.auth.signUp.mutate({ email: uniqueEmail(), password, name: 'Grace' });
    expect(jar.get('forgeline_session')).toMatch(/^\w{20,}$/);
    const [who, balance, page] = await Promise.all([
      client.auth.me.query(),
      client.credits.balance.query(),
      client.credits.transactions.query({ limit: 5 }),
    ]);
    expect(who).toEqual(me);
    expect(balance.balance).toBe(100);
    // superjson: dates cross the wire as Dates.
    expect(page.items[0]?.createdAt).toBeInstanceOf(Date);
  });

  it('signs out and forgets the caller', async () => {
    const { client, jar } = httpClient(server);
    await client.auth.signUp.mutate({ email: uniqueEmail(), password, name: 'Out' });
    await client.auth.signOut.mutate();
    expect(jar.get('forgeline_session')).toBeUndefined();
    await expect(client.auth.me.query()).resolves.toBeNull();
  });

  it('refuses a cookie mutation without the CSRF header, and changes nothing', async () => {
    const { client, jar } = httpClient(server);
    await client.auth.signUp.mutate({ email: uniqueEmail(), password, name: 'Csrf' });
    const { client: bare } = httpClient(server, { csrf: false, jar });
    const error = await clientError(bare.auth.signOut.mutate());
    expect(error.data?.code).toBe('FORBIDDEN');
    await expect(client.auth.me.query()).resolves.not.toBeNull();
  });

  it('maps invalid input to BAD_REQUEST with field errors', async () => {
    const { client } = httpClient(server);
    const error = await clientError(
      client.auth.signUp.mutate({ email: 'nope', password: 'short', name: 'X' }),
    );
    expect(error.data?.code).toBe('BAD_REQUEST');
    expect(error.data?.httpStatus).toBe(400);
    expect(Object.keys(error.data?.fieldErrors ?? {}).sort()).toEqual(['email', 'password']);
  });

  it('answers UNAUTHORIZED without a session', async () => {
    const { client } = httpClient(server);
    const error = await clientError(client.credits.balance.query());
    expect(error.data?.code).toBe('UNAUTHORIZED');
    expect(error.data?.httpStatus).toBe(401);
  });
});

describe('request guards', () => {
  const post = (path: string, init: RequestInit) =>
    fetch(`${server.baseUrl}${path}`, { method: 'POST', ...init });

  it('refuses a multipart form POST to a mutation (a cross-site form needs no preflight)', async () => {
    const form = new FormData();
    form.set('x', '1');
    const response = await post('/trpc/auth.signOut', { body: form });
    expect(response.status).toBe(415);
  });

  it('refuses text/plain bodies', async () => {
    const response = await post('/trpc/auth.signOut', {
      body: '{}',
      headers: { 'content-type': 'text/plain' },
    });
    expect(response.status).toBe(415);
  });

  it('refuses requests a browser marks cross-site, and foreign origins', async () => {
    const headers = { 'content-type': 'application/json', 'x-csrf-protection': '1' };
    const crossSite = await post('/trpc/auth.signOut', {
      body: '{}',
      headers: { ...headers, 'sec-fetch-site': 'cross-site' },
    });
    expect(crossSite.status).toBe(403);
    const foreign = await post('/trpc/auth.signOut', {
      body: '{}',
      headers: { ...headers, origin: 'https://evil.example' },
    });
    expect(foreign.status).toBe(403);
  });

  it('rejects malformed JSON cleanly', async () => {
    const response = await post('/trpc/auth.signIn', {
      body: '{"json": {"email": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/);
  });

  it('rejects bodies over the size limit', async () => {
    const response = await post('/trpc/auth.signIn', {
      body: JSON.stringify({ json: { email: 'a@b.co', password: 'x'.repeat(2 * 1024 * 1024) } }),
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(413);
  });
});

describe('health endpoints', () => {
  it('/health answers while the process lives; /ready checks the database and migrations', async () => {
    const health = await fetch(`${server.baseUrl}/health`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${server.baseUrl}/ready`);
    expect(ready.status).toBe(200);
    await expect(ready.json()).resolves.toMatchObject({ ok: true, database: true, migrations: true });
  });

  it('sends security headers', async () => {
    const response = await fetch(`${server.baseUrl}/health`);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-request-id')).toBeTruthy();
  });

  it('answers /trpc/… (its fast path past the router) through the same middlewares as Express routes', async () => {
    const routed = await fetch(`${server.baseUrl}/health`);
    const fast = await fetch(`${server.baseUrl}/trpc/health`, { headers: { 'x-request-id': 'trace-42' } });
    // Express matches paths case-insensitively: this one goes through its router to the same handler.
    const viaRouter = await fetch(`${server.baseUrl}/TRPC/health`);
    expect(fast.status).toBe(200);
    expect(viaRouter.status).toBe(200);
    const securityHeaders = [
      'content-security-policy',
      'cross-origin-opener-policy',
      'cross-origin-resource-policy',
      'origin-agent-cluster',
      'referrer-policy',
      'strict-transport-security',
      'x-content-type-options',
      'x-dns-prefetch-control',
      'x-download-options',
      'x-frame-options',
      'x-permitted-cross-domain-policies',
      'x-xss-protection',
    ];
    for (const name of securityHeaders) {
      expect(fast.headers.get(name), name).toBe(routed.headers.get(name));
      expect(viaRouter.headers.get(name), name).toBe(routed.headers.get(name));
    }
    expect(fast.headers.get('x-content-type-options')).toBe('nosniff');
    expect(fast.headers.get('x-request-id')).toBe('trace-42');
    expect(viaRouter.headers.get('x-request-id')).toMatch(/^[\w-]{36}$/);
    const [fastBody, routerBody] = (await Promise.all([fast.json(), viaRouter.json()])) as {
      result: { data: { json: { ok: boolean } } };
    }[];
    expect(fastBody?.result.data.json.ok).toBe(true);
    expect(routerBody?.result.data.json.ok).toBe(true);
    // The CSRF guard is on the fast path too: a form-encoded mutation is refused before tRPC.
    const form = await fetch(`${server.baseUrl}/trpc/auth.signOut`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    });
    expect(form.status).toBe(415);
    const crossSite = await fetch(`${server.baseUrl}/trpc/auth.signOut`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' },
      body: '{}',
    });
    expect(crossSite.status).toBe(403);
  });
});
