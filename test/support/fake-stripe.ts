// A loopback HTTP server speaking the parts of Stripe's API we call (products, prices, checkout
// sessions, subscription updates), so the real `stripe` SDK can be pointed at it with
// STRIPE_API_BASE. Webhooks to us are signed separately with the SDK's own test-header helper.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';

type Obj = Record<string, unknown> & { id: string };

export type FakeStripe = {
  url: string;
  secretKey: string;
  products: Obj[];
  prices: Obj[];
  sessions: Obj[];
  subscriptions: Map<string, Obj>;
  /** A Stripe SDK pointed at this server. */
  client(): Stripe;
  close(): Promise<void>;
};

/** Stripe's form encoding (a[b][0]=c) back into an object. */
function parseForm(body: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const path = rawKey.replace(/\]/g, '').split('[');
    let node = out as Record<string, unknown>;
    path.forEach((key, index) => {
      if (index === path.length - 1) node[key] = value;
      else {
        node[key] ??= {};
        node = node[key] as Record<string, unknown>;
      }
    });
  }
  return out;
}

const list = (url: string, data: Obj[]) => ({ object: 'list', url, has_more: false, data });

export async function startFakeStripe(): Promise<FakeStripe> {
  const secretKey = `sk_test_${randomBytes(12).toString('hex')}`;
  const products: Obj[] = [];
  const prices: Obj[] = [];
  const sessions: Obj[] = [];
  const subscriptions = new Map<string, Obj>();
  let url = '';

  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = parseForm(Buffer.concat(chunks).toString('utf8'));
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, {
        'content-type': 'application/json',
        'request-id': `req_${randomBytes(6).toString('hex')}`,
      });
      res.end(JSON.stringify(payload));
    };
    if (req.headers.authorization !== `Bearer ${secretKey}`) {
      return send(401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
    }
    const { pathname, searchParams } = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && pathname === '/v1/products') return send(200, list(pathname, products));
    if (req.method === 'GET' && pathname.startsWith('/v1/products/')) {
      const product = products.find((p) => p.id === pathname.split('/')[3]);
      return product
        ? send(200, product)
        : send(404, { error: { type: 'invalid_request_error', message: 'No such product' } });
    }
    if (req.method === 'GET' && pathname === '/v1/prices') {
      const product = searchParams.get('product');
      return send(200, list(pathname, product ? prices.filter((p) => p.product === product) : prices));
    }
    if (req.method === 'POST' && pathname === '/v1/checkout/sessions') {
      const id = `cs_test_${randomBytes(8).toString('hex')}`;
      const session = { id, object: 'checkout.session', url: `${url}/pay/${id}`, ...body };
      sessions.push(session);
      return send(200, session);
    }
    if (req.method === 'POST' && pathname.startsWith('/v1/subscriptions/')) {
      const subscription = subscriptions.get(pathname.split('/')[3] ?? '');
      if (!subscription)
        return send(404, { error: { type: 'invalid_request_error', message: 'No such subscription' } });
      if ('cancel_at_period_end' in body)
        subscription.cancel_at_period_end = body.cancel_at_period_end === 'true';
      return send(200, subscription);
    }
    send(404, {
      error: {
        type: 'invalid_request_error',
        message: `Unrecognized request URL (${req.method}: ${pathname})`,
      },
    });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    secretKey,
    products,
    prices,
    sessions,
    subscriptions,
    client: () => {
      const base = new URL(url);
      return new Stripe(secretKey, {
        host: base.hostname,
        port: base.port,
        protocol: 'http',
        maxNetworkRetries: 0,
      });
    },
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

/** Signs a Stripe event for POST /webhooks/stripe with the SDK's own helper. */
export function signedStripeEvent(
  secret: string,
  type: string,
  object: Record<string, unknown>,
  options: { id?: string; created?: number; timestamp?: number } = {},
) {
  const created = options.created ?? Math.floor(Date.now() / 1000);
  const payload = JSON.stringify({
    id: options.id ?? `evt_${randomBytes(10).toString('hex')}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
  });
  const signature = Stripe.webhooks.generateTestHeaderString({
    payload,
    secret,
    ...(options.timestamp ? { timestamp: options.timestamp } : {}),
  });
  return { payload, signature };
}
