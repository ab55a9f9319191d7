// What a careless client or an attacker sends over real HTTP: malformed URLs, unusual but valid
// content types, superjson payloads the deserialiser chokes on, forged X-Forwarded-For headers,
// and a browser on plain http. Every answer is a clean 4xx (never a 500, never an error log — the
// test logger turns one into a failure) or the right header.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import superjson from 'superjson';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.ts';
import { ConfigError, loadConfig } from '../../server/config.ts';
import type { AppRouter } from '../../server/router.ts';
import { setupTestDatabase } from '../support/database.ts';
import { createPackage, createUser, uniqueEmail } from '../support/factories.ts';
import { signedStripeEvent } from '../support/fake-stripe.ts';
import { CookieJar, setupTestServer } from '../support/http.ts';

const STRIPE_SECRET = `whsec_${randomBytes(16).toString('hex')}`;
const db = setupTestDatabase({ env: { STRIPE_WEBHOOK_SECRET: STRIPE_SECRET } });
const server = setupTestServer(db);

const get = (path: string, init?: RequestInit) => fetch(`${server.baseUrl}${path}`, init);
const postJson = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${server.baseUrl}${path}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });

describe('malformed URLs', () => {
  const malformed = [
    '/files/%',
    '/files/%E0%A4%A',
    '/trpc/%',
    '/trpc/%E0%A4%A',
    '/webhooks/provider/%',
    '/uploads/%ZZ',
    '/%',
    '/files/00000000-0000-4000-8000-000000000000?sig=%E0%A4%A',
    '/trpc/auth.me?input=%',
  ];

  for (const path of malformed) {
    it(`GET ${path} is a 400, not a 500`, async () => {
      const response = await get(path);
      expect(response.status).toBe(400);
      await expect(response.json()).resolves.toMatchObject({ error: 'Malformed URL' });
    });
  }

  it('answers 400 to a POST with a malformed path too', async () => {
    expect((await postJson('/trpc/%', '{}', { 'x-csrf-protection': '1' })).status).toBe(400);
    expect((await postJson('/webhooks/provider/%', '{}')).status).toBe(400);
    expect((await postJson('/webhooks/stripe%', '{}')).status).toBe(400);
  });

  it('still serves well-formed escapes', async () => {
    const response = await get('/trpc/health?input=%7B%7D');
    expect(response.status).toBe(200);
    expect((await get('/files/%41%42')).status).toBe(404);
  });
});

describe('JSON content types', () => {
  const variants = [
    'Application/JSON',
    'APPLICATION/JSON; charset=utf-8',
    'application/json;charset=UTF-8',
    'Application/Json ; Charset="utf-8"',
  ];

  for (const contentType of variants) {
    it(`treats "${contentType}" as JSON on /trpc`, async () => {
      const response = await postJson(
        '/trpc/auth.signUp',
        JSON.stringify({
          json: { email: uniqueEmail('ctype'), password: 'a long enough password', name: 'C' },
        }),
        { 'content-type': contentType, 'x-csrf-protection': '1' },
      );
      expect(response.status).toBe(200);
      const body = await response.json();
      expect(body.result.data.json).toMatchObject({ name: 'C' });
    });
  }

  it('answers a batch sent as Application/JSON', async () => {
    const response = await fetch(`${server.baseUrl}/trpc/auth.signOut,auth.signOut?batch=1`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'Application/JSON; charset=utf-8', 'x-csrf-protection': '1' },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toHaveLength(2);
  });

  it('applies a signed webhook sent as Application/JSON; charset=UTF-8', async () => {
    const user = await createUser(db, { credits: 0 });
    const pkg = await createPackage(db, { credits: 40 });
    const event = signedStripeEvent(STRIPE_SECRET, 'checkout.session.completed', {
      id: `cs_${randomBytes(6).toString('hex')}`,
      object: 'checkout.session',
      mode: 'payment',
      payment_status: 'paid',
      client_reference_id: user.id,
      payment_intent: `pi_${randomBytes(6).toString('hex')}`,
      amount_total: 500,
      currency: 'usd',
      metadata: { userId: user.id, packageId: pkg.id },
    });
    const response = await postJson('/webhooks/stripe', event.payload, {
      'content-type': 'Application/JSON; charset=UTF-8',
      'stripe-signature': event.signature,
    });
    expect(response.status).toBe(200);
    const { balance } = await db.orm.em
      .fork()
      .execute<{ balance: number }[]>('select balance from credit_balances where user_id = ?', [user.id])
      .then((rows) => rows[0] ?? { balance: -1 });
    expect(Number(balance)).toBe(40);
  });

  it('still refuses non-JSON bodies whatever their case', async () => {
    const response = await postJson('/trpc/auth.signOut', '{}', { 'content-type': 'Text/Plain' });
    expect(response.status).toBe(415);
    const lookalike = await postJson('/trpc/auth.signOut', '{}', { 'content-type': 'application/jsonx' });
    expect(lookalike.status).toBe(415);
  });
});

describe('input the deserialiser cannot read', () => {
  const nested = (depth: number, leaf = '1') => '['.repeat(depth) + leaf + ']'.repeat(depth);
  const INTERNALS =
    /Maximum call stack|Cannot read properties|is not iterable|is not a function|deserialize|superjson|github\.com|Symbol\(|\bat [\w.<>]+ \(/;

  /** One call's `{ json, meta }` that superjson cannot turn back into a value. */
  const undecodable: Record<string, string> = {
    'meta.values nested past the stack': `{"json":1,"meta":{"values":${nested(20_000)}}}`,
    'meta.values on a number': '{"json":{"a":1},"meta":{"values":{"a":["map"]}}}',
    'an unknown custom type': '{"json":{"a":1},"meta":{"values":[["custom","x"]]}}',
    'an unknown class': '{"json":{"a":1},"meta":{"values":{"a":[["class","X"]]}}}',
    'referential equalities to nowhere':
      '{"json":{"a":1},"meta":{"referentialEqualities":{"b.c":["d.e.f"]}}}',
  };
  /** Odd meta that decodes to something the schema then refuses. */
  const payloads: Record<string, string> = {
    ...undecodable,
    'meta.values on a path that is not there': '{"json":{},"meta":{"values":{"a.x":["Date"]}}}',
    'meta as a string': '{"json":{"a":1},"meta":"values"}',
    'meta.values as a number': '{"json":{"a":1},"meta":{"values":5}}',
  };
  let cookie = '';
  beforeAll(async () => {
    const response = await postJson(
      '/trpc/auth.signUp',
      JSON.stringify({
        json: { email: uniqueEmail('decode'), password: 'a long enough password', name: 'D' },
      }),
      { 'x-csrf-protection': '1' },
    );
    cookie = response.headers.getSetCookie()[0]?.split(';')[0] ?? '';
  });
  const signedInGet = (path: string) => get(path, { headers: { cookie } });

  const expectPlainBadRequest = (body: unknown) => {
    const errors = (Array.isArray(body) ? body : [body]) as {
      error?: { json: { message: string; data: { code: string; httpStatus: number } } };
    }[];
    const failed = errors.filter((entry) => entry.error);
    expect(failed.length).toBeGreaterThan(0);
    for (const entry of failed) {
      const error = entry.error?.json;
      expect(error?.data.code).toBe('BAD_REQUEST');
      expect(error?.message).not.toMatch(INTERNALS);
      expect(error?.message).toMatch(/input/i);
    }
  };

  for (const [what, body] of Object.entries(payloads)) {
    it(`answers a plain BAD_REQUEST to ${what} (POST, single and batched)`, async () => {
      const single = await postJson('/trpc/auth.signIn', body, { 'x-csrf-protection': '1' });
      expect(single.status).toBe(400);
      expectPlainBadRequest(await single.json());

      const batched = await postJson('/trpc/auth.signIn,auth.signUp?batch=1', `{"0":${body},"1":${body}}`, {
        'x-csrf-protection': '1',
      });
      expect(batched.status).toBe(400);
      expectPlainBadRequest(await batched.json());
    });
  }

  it('answers a plain BAD_REQUEST to undecodable query input (GET, single and batched)', async () => {
    for (const body of Object.values(undecodable).filter((payload) => payload.length < 2_000)) {
      const single = await signedInGet(`/trpc/generations.list?input=${encodeURIComponent(body)}`);
      expect(single.status).toBe(400);
      expectPlainBadRequest(await single.json());
      const batched = await signedInGet(
        `/trpc/generations.list,credits.transactions?batch=1&input=${encodeURIComponent(`{"0":${body},"1":${body}}`)}`,
      );
      expect(batched.status).toBe(400);
      expectPlainBadRequest(await batched.json());
    }
    // Deep enough to overflow the deserialiser, short enough for a URL.
    const deep = await signedInGet(
      `/trpc/generations.list?input={"json":1,"meta":{"values":${nested(4_000)}}}`,
    );
    expect(deep.status).toBe(400);
    expectPlainBadRequest(await deep.json());
  });

  it('says plainly when the input is not JSON at all', async () => {
    const response = await signedInGet('/trpc/generations.list?input=%7Bnot%20json');
    expect(response.status).toBe(400);
    const body = await response.json();
    expectPlainBadRequest(body);
    expect(body.error.json.message).toBe('The input is not valid JSON');
  });

  it('keeps field errors for input that decodes but does not validate', async () => {
    const response = await postJson('/trpc/auth.signIn', '{"json":{"email":"nope"}}', {
      'x-csrf-protection': '1',
    });
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.error.json.data.fieldErrors).toHaveProperty('email');
  });
});

/** The machine's own non-loopback IPv4 address: connecting to it does not come from loopback. */
function lanAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  throw new Error('This machine has no non-loopback IPv4 address');
}

/** The app with this environment, listening on every interface. */
async function appWith(env: Record<string, string>) {
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'error', ...env });
  const app = await createApp({ ...db.deps, config });
  const listening = app.listen(0, '0.0.0.0');
  await new Promise((ready) => listening.once('listening', ready));
  const port = (listening.address() as AddressInfo).port;
  return {
    app,
    port,
    close: () =>
      new Promise<void>((done) => {
        listening.close(() => done());
        listening.closeAllConnections();
      }),
  };
}

/** Signs in over HTTP from `host` with a forged X-Forwarded-For; returns the IP the session recorded. */
async function sessionIpVia(baseUrl: string, forwardedFor: string) {
  const user = await createUser(db);
  const jar = new CookieJar();
  const client = createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${baseUrl}/trpc`,
        transformer: superjson,
        headers: () => ({
          'x-csrf-protection': '1',
          'x-forwarded-for': forwardedFor,
          ...(jar.header() ? { cookie: jar.header() } : {}),
        }),
        fetch: async (url, init) => {
          const response = await fetch(url, init as RequestInit);
          jar.store(response);
          return response;
        },
      }),
    ],
  });
  await client.auth.signIn.mutate({ email: user.email, password: user.password });
  const sessions = await client.auth.sessions.list.query();
  return sessions.find((session) => session.current)?.ip;
}

describe('trust proxy', () => {
  it('trusts only loopback by default: private, link-local and unique-local peers are not proxies', async () => {
    const { app, close } = await appWith({});
    try {
      const trusted = app.get('trust proxy fn') as (address: string, hop: number) => boolean;
      expect(trusted('127.0.0.1', 0)).toBe(true);
      expect(trusted('::1', 0)).toBe(true);
      for (const address of ['10.1.2.3', '172.16.0.9', '192.168.1.20', '169.254.1.1', 'fe80::1', 'fd00::2']) {
        expect(trusted(address, 0), address).toBe(false);
      }
    } finally {
      await close();
    }
  });

  it('takes TRUST_PROXY in Express syntax', async () => {
    const { app, close } = await appWith({ TRUST_PROXY: 'loopback, 10.0.0.0/8' });
    try {
      const trusted = app.get('trust proxy fn') as (address: string, hop: number) => boolean;
      expect(trusted('10.1.2.3', 0)).toBe(true);
      expect(trusted('127.0.0.1', 0)).toBe(true);
      expect(trusted('192.168.1.20', 0)).toBe(false);
    } finally {
      await close();
    }
    const hops = await appWith({ TRUST_PROXY: '1' });
    try {
      const trusted = hops.app.get('trust proxy fn') as (address: string, hop: number) => boolean;
      expect(trusted('203.0.113.1', 0)).toBe(true);
      expect(trusted('203.0.113.1', 1)).toBe(false);
    } finally {
      await hops.close();
    }
    expect(() => loadConfig({ TRUST_PROXY: 'my proxy' })).toThrow(ConfigError);
    expect(() => loadConfig({ TRUST_PROXY: '10.0.0.0/99' })).toThrow(/TRUST_PROXY/);
  });

  it('records the forwarded client only when the peer is a trusted proxy', async () => {
    const lan = lanAddress();
    const plain = await appWith({});
    try {
      // From a non-loopback peer, X-Forwarded-For is the client's own claim: ignored.
      expect(await sessionIpVia(`http://${lan}:${plain.port}`, '203.0.113.7')).toBe(lan);
      // From loopback (a proxy on this machine), it is believed.
      expect(await sessionIpVia(`http://127.0.0.1:${plain.port}`, '203.0.113.7')).toBe('203.0.113.7');
    } finally {
      await plain.close();
    }
    const behindProxy = await appWith({ TRUST_PROXY: lan });
    try {
      expect(await sessionIpVia(`http://${lan}:${behindProxy.port}`, '203.0.113.8')).toBe('203.0.113.8');
    } finally {
      await behindProxy.close();
    }
  });
});

describe('content security policy', () => {
  it('does not upgrade requests to https when PUBLIC_URL is plain http', async () => {
    const response = await get('/health');
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'self'");
    expect(policy).not.toContain('upgrade-insecure-requests');
    // Ignored (with a console error) on an untrustworthy origin: not sent there.
    expect(response.headers.get('cross-origin-opener-policy')).toBeNull();
  });

  it('upgrades them when PUBLIC_URL is https', async () => {
    const secure = await appWith({ PUBLIC_URL: 'https://forgeline.example' });
    try {
      const response = await fetch(`http://127.0.0.1:${secure.port}/health`);
      expect(response.headers.get('content-security-policy')).toContain('upgrade-insecure-requests');
      expect(response.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    } finally {
      await secure.close();
    }
  });
});
