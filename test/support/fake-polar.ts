// A loopback HTTP server speaking the parts of Polar's API we call (checkout sessions, customer
// portal sessions, subscription updates), for POLAR_API_BASE; and Polar webhooks signed with the
// `standardwebhooks` SDK the way Polar signs them (key: the secret's UTF-8 bytes).
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

type Obj = Record<string, unknown> & { id: string };

export type FakePolar = {
  url: string;
  accessToken: string;
  checkouts: Obj[];
  subscriptions: Map<string, Obj>;
  requests: { method: string; path: string; body: Record<string, unknown> | null }[];
  close(): Promise<void>;
};

export async function startFakePolar(): Promise<FakePolar> {
  const accessToken = `polar_oat_${randomBytes(12).toString('hex')}`;
  const checkouts: Obj[] = [];
  const subscriptions = new Map<string, Obj>();
  const requests: FakePolar['requests'] = [];
  let url = '';
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : null;
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    if (req.headers.authorization !== `Bearer ${accessToken}`) {
      return send(401, { error: 'Unauthorized', detail: 'Invalid access token' });
    }
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push({ method, path, body });
    if (method === 'POST' && path === '/v1/checkouts/') {
      if (!Array.isArray(body?.products) || body.products.length === 0) {
        return send(422, { detail: [{ loc: ['body', 'products'], msg: 'Field required' }] });
      }
      const checkout: Obj = {
        id: randomUUID(),
        status: 'open',
        url: `${url}/checkout/polar_c_${randomBytes(8).toString('hex')}`,
        expires_at: new Date(Date.now() + 3_600_000).toISOString(),
        product_id: (body.products as string[])[0],
        ...body,
      };
      checkouts.push(checkout);
      return send(201, checkout);
    }
    if (method === 'POST' && path === '/v1/customer-sessions/') {
      return send(201, {
        id: randomUUID(),
        token: `polar_cst_${randomBytes(8).toString('hex')}`,
        customer_portal_url: `${url}/portal/${encodeURIComponent(String(body?.external_customer_id))}`,
        return_url: body?.return_url ?? null,
      });
    }
    const match = /^\/v1\/subscriptions\/([^/]+)$/.exec(path);
    if (match) {
      const subscription = subscriptions.get(decodeURIComponent(match[1] ?? ''));
      if (!subscription) return send(404, { error: 'ResourceNotFound', detail: 'Not found' });
      if (method === 'GET') return send(200, subscription);
      if (method === 'DELETE') {
        Object.assign(subscription, { status: 'canceled', ended_at: new Date().toISOString() });
        return send(200, subscription);
      }
      if (method === 'PATCH' && body) {
        if ('cancel_at_period_end' in body) subscription.cancel_at_period_end = body.cancel_at_period_end;
        if ('pending_update' in body) subscription.pending_update = null;
        if (body.product_id) {
          if (body.proration_behavior === 'next_period') {
            subscription.pending_update = {
              id: randomUUID(),
              applies_at: subscription.current_period_end,
              product_id: body.product_id,
            };
          } else {
            subscription.product_id = body.product_id;
          }
        }
        if (body.metadata) subscription.metadata = body.metadata;
        subscription.modified_at = new Date().toISOString();
        return send(200, subscription);
      }
    }
    send(404, { error: 'ResourceNotFound', detail: `${method} ${path}` });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    accessToken,
    checkouts,
    subscriptions,
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

/** A Polar webhook for POST /webhooks/polar, signed with the standardwebhooks SDK. */
export function signedPolarEvent(secret: string, body: unknown, options: { id?: string; raw?: string } = {}) {
  const id = options.id ?? `msg_${randomBytes(8).toString('hex')}`;
  const payload = options.raw ?? JSON.stringify(body);
  const timestamp = new Date();
  const signature = new Webhook(Buffer.from(secret).toString('base64')).sign(id, timestamp, payload);
  return {
    payload,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': signature,
    },
  };
}
