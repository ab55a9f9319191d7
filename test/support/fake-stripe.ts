// A loopback HTTP server speaking the parts of Stripe's API we call (products, prices, checkout
// sessions, subscriptions and their schedules, customers and their saved cards, payment intents —
// off-session charges with Stripe's test cards and idempotency keys — billing-portal sessions), so the
// real `stripe` SDK can be pointed at it with STRIPE_API_BASE. Webhooks to us are signed separately
// with the SDK's own test-header helper. Every request is kept in `requests` for assertions.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';

type Obj = Record<string, unknown> & { id: string };

export type TestCard = 'pm_card_visa' | 'pm_card_chargeDeclined' | 'pm_card_authenticationRequired';
const CARD_DETAILS: Record<
  TestCard,
  { brand: string; last4: string; decline?: { code: string; message: string } }
> = {
  pm_card_visa: { brand: 'visa', last4: '4242' },
  pm_card_chargeDeclined: {
    brand: 'visa',
    last4: '0002',
    decline: { code: 'card_declined', message: 'Your card was declined.' },
  },
  pm_card_authenticationRequired: {
    brand: 'visa',
    last4: '3155',
    decline: {
      code: 'authentication_required',
      message: 'Your card was declined. This transaction requires authentication.',
    },
  },
};

export type FakeStripeRequest = { method: string; path: string; body: Record<string, unknown> };

export type FakeStripe = {
  url: string;
  secretKey: string;
  products: Obj[];
  prices: Obj[];
  sessions: Obj[];
  subscriptions: Map<string, Obj>;
  schedules: Map<string, Obj>;
  paymentIntents: Map<string, Obj>;
  customers: Map<string, Obj>;
  paymentMethods: Map<string, Obj>;
  requests: FakeStripeRequest[];
  /**
   * Saves one of Stripe's test cards on a customer (created if new), as the default card unless
   * `makeDefault` is false: `pm_card_visa` pays, `pm_card_chargeDeclined` is declined,
   * `pm_card_authenticationRequired` needs the cardholder (declined off-session).
   */
  saveCard(customerId: string, card: TestCard, options?: { makeDefault?: boolean }): string;
  /** The next `count` payment intents are created (the card charged) but the answer is lost on the way. */
  loseNextPaymentIntentResponses(count: number): void;
  /** A Stripe SDK pointed at this server. */
  client(): Stripe;
  close(): Promise<void>;
};

/** Stripe's form encoding (a[b][0]=c) back into an object (array indexes stay object keys). */
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
const id = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;
const now = () => Math.floor(Date.now() / 1000);

export async function startFakeStripe(): Promise<FakeStripe> {
  const secretKey = `sk_test_${randomBytes(12).toString('hex')}`;
  const products: Obj[] = [];
  const prices: Obj[] = [];
  const sessions: Obj[] = [];
  const subscriptions = new Map<string, Obj>();
  const schedules = new Map<string, Obj>();
  const paymentIntents = new Map<string, Obj>();
  const customers = new Map<string, Obj>();
  const paymentMethods = new Map<string, Obj>();
  /** Stripe keeps the first answer to an idempotency key and replays it. */
  const idempotent = new Map<string, { status: number; body: unknown }>();
  let responsesToLose = 0;
  const requests: FakeStripeRequest[] = [];
  let url = '';

  const priceObject = (priceId: string): Obj =>
    prices.find((price) => price.id === priceId) ?? {
      id: priceId,
      object: 'price',
      unit_amount: 0,
      currency: 'usd',
      recurring: { interval: 'month', interval_count: 1 },
    };

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
    const notFound = (what: string) =>
      send(404, { error: { type: 'invalid_request_error', message: `No such ${what}` } });
    if (req.headers.authorization !== `Bearer ${secretKey}`) {
      return send(401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
    }
    const { pathname, searchParams } = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    requests.push({ method, path: pathname, body });
    const [, , resource, objectId, action] = pathname.split('/');

    if (method === 'GET' && pathname === '/v1/products') return send(200, list(pathname, products));
    if (method === 'GET' && resource === 'products') {
      const product = products.find((p) => p.id === objectId);
      return product ? send(200, product) : notFound('product');
    }
    if (method === 'GET' && pathname === '/v1/prices') {
      const product = searchParams.get('product');
      return send(200, list(pathname, product ? prices.filter((p) => p.product === product) : prices));
    }
    if (method === 'POST' && pathname === '/v1/prices') {
      const recurring = body.recurring as Record<string, string> | undefined;
      const price: Obj = {
        id: id('price'),
        object: 'price',
        active: true,
        currency: body.currency,
        unit_amount: Number(body.unit_amount),
        recurring: recurring ? { interval: recurring.interval, interval_count: 1 } : null,
        metadata: body.metadata ?? {},
      };
      prices.push(price);
      return send(200, price);
    }
    if (method === 'POST' && pathname === '/v1/checkout/sessions') {
      const sessionId = id('cs_test');
      const session = {
        id: sessionId,
        object: 'checkout.session',
        status: 'open',
        url: `${url}/pay/${sessionId}`,
        expires_at: now() + 86_400,
        ...body,
      };
      sessions.push(session);
      return send(200, session);
    }
    if (
      method === 'POST' &&
      resource === 'checkout' &&
      objectId === 'sessions' &&
      pathname.endsWith('/expire')
    ) {
      const sessionId = action;
      const session = sessions.find((s) => s.id === sessionId);
      if (!session) return notFound('checkout session');
      if (session.status !== 'open') {
        return send(400, {
          error: {
            type: 'invalid_request_error',
            message: 'Only Checkout Sessions with a status of open can be expired.',
          },
        });
      }
      session.status = 'expired';
      return send(200, session);
    }
    if (resource === 'subscriptions' && objectId) {
      const subscription = subscriptions.get(objectId);
      if (!subscription) return notFound('subscription');
      if (method === 'GET') return send(200, subscription);
      if (method === 'DELETE') {
        subscription.status = 'canceled';
        subscription.canceled_at = now();
        return send(200, subscription);
      }
      if ('cancel_at_period_end' in body)
        subscription.cancel_at_period_end = body.cancel_at_period_end === 'true';
      if (body.metadata) subscription.metadata = body.metadata;
      const items = body.items as Record<string, Record<string, string>> | undefined;
      if (items?.['0']?.price) {
        const data = (subscription.items as { data: Record<string, unknown>[] }).data;
        const item = data[0] ?? {};
        item.price = priceObject(items['0'].price);
        data[0] = item;
      }
      return send(200, subscription);
    }
    if (resource === 'subscription_schedules') {
      if (method === 'POST' && !objectId) {
        const subscription = subscriptions.get(String(body.from_subscription));
        if (!subscription) return notFound('subscription');
        const item = (subscription.items as { data: Record<string, unknown>[] }).data[0] as Record<
          string,
          unknown
        >;
        const schedule: Obj = {
          id: id('sub_sched'),
          object: 'subscription_schedule',
          subscription: subscription.id,
          end_behavior: 'release',
          status: 'active',
          phases: [
            {
              start_date: item.current_period_start,
              end_date: item.current_period_end,
              items: [{ price: (item.price as Obj).id, quantity: 1 }],
            },
          ],
        };
        schedules.set(schedule.id, schedule);
        subscription.schedule = schedule.id;
        return send(200, schedule);
      }
      const schedule = schedules.get(objectId ?? '');
      if (!schedule) return notFound('subscription schedule');
      if (method === 'GET') return send(200, schedule);
      if (method === 'POST' && action === 'release') {
        schedule.status = 'released';
        const subscription = subscriptions.get(String(schedule.subscription));
        if (subscription) subscription.schedule = null;
        return send(200, schedule);
      }
      if (method === 'POST') {
        Object.assign(schedule, body);
        return send(200, schedule);
      }
    }
    if (resource === 'customers' && objectId && method === 'GET') {
      const customer = customers.get(objectId);
      if (!customer) return notFound('customer');
      if (action === 'payment_methods') {
        const type = searchParams.get('type');
        const saved = [...paymentMethods.values()]
          .filter((pm) => pm.customer === objectId && (!type || pm.type === type))
          .reverse();
        return send(200, list(pathname, saved));
      }
      const expand = [...searchParams.entries()]
        .filter(([key]) => key.startsWith('expand'))
        .map(([, v]) => v);
      const settings = customer.invoice_settings as { default_payment_method: string | null };
      return send(200, {
        ...customer,
        invoice_settings: {
          ...settings,
          default_payment_method:
            expand.includes('invoice_settings.default_payment_method') && settings.default_payment_method
              ? paymentMethods.get(settings.default_payment_method)
              : settings.default_payment_method,
        },
      });
    }
    if (resource === 'payment_methods' && objectId && method === 'GET') {
      const pm = paymentMethods.get(objectId);
      return pm ? send(200, pm) : notFound('payment_method');
    }
    if (method === 'POST' && pathname === '/v1/payment_intents') {
      const key = String(req.headers['idempotency-key'] ?? '');
      const replay = key ? idempotent.get(key) : undefined;
      if (replay) return send(replay.status, replay.body);
      const pm = paymentMethods.get(String(body.payment_method));
      const card = pm ? CARD_DETAILS[pm.id.split('__')[0] as TestCard] : undefined;
      const intent: Obj = {
        id: id('pi'),
        object: 'payment_intent',
        amount: Number(body.amount),
        amount_received: 0,
        currency: body.currency,
        customer: body.customer,
        payment_method: body.payment_method,
        description: body.description ?? null,
        metadata: body.metadata ?? {},
        off_session: body.off_session === 'true',
        confirmation_method: 'automatic',
        latest_charge: null,
        last_payment_error: null,
        created: now(),
        status: 'requires_payment_method',
      };
      let answer: { status: number; body: unknown };
      if (!pm || pm.customer !== body.customer) {
        answer = {
          status: 400,
          body: {
            error: {
              type: 'invalid_request_error',
              message: `No such PaymentMethod: '${String(body.payment_method)}'`,
            },
          },
        };
      } else if (card?.decline) {
        const error = { type: 'card_error', code: card.decline.code, message: card.decline.message };
        intent.last_payment_error = error;
        paymentIntents.set(intent.id, intent);
        answer = {
          status: 402,
          body: { error: { ...error, decline_code: 'generic_decline', payment_intent: intent } },
        };
      } else {
        Object.assign(intent, {
          status: 'succeeded',
          amount_received: intent.amount,
          latest_charge: `ch_${intent.id.slice(3)}`,
        });
        paymentIntents.set(intent.id, intent);
        answer = { status: 200, body: intent };
      }
      if (key) idempotent.set(key, answer);
      if (responsesToLose > 0 && answer.status === 200) {
        responsesToLose--;
        req.socket.destroy();
        return;
      }
      return send(answer.status, answer.body);
    }
    if (method === 'GET' && resource === 'payment_intents') {
      const intent = paymentIntents.get(objectId ?? '');
      return intent ? send(200, intent) : notFound('payment_intent');
    }
    if (method === 'POST' && pathname === '/v1/billing_portal/sessions') {
      const portalId = id('bps');
      return send(200, {
        id: portalId,
        object: 'billing_portal.session',
        customer: body.customer,
        return_url: body.return_url,
        url: `${url}/portal/${portalId}`,
      });
    }
    send(404, {
      error: {
        type: 'invalid_request_error',
        message: `Unrecognized request URL (${method}: ${pathname})`,
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
    schedules,
    paymentIntents,
    customers,
    paymentMethods,
    requests,
    saveCard(customerId, card, options = {}) {
      const customer = customers.get(customerId) ?? {
        id: customerId,
        object: 'customer',
        invoice_settings: { default_payment_method: null },
      };
      customers.set(customerId, customer);
      const details = CARD_DETAILS[card];
      // Stripe's test cards are shared names; ours are per customer, keyed `card__customer`.
      const pmId = `${card}__${customerId}`;
      paymentMethods.set(pmId, {
        id: pmId,
        object: 'payment_method',
        type: 'card',
        customer: customerId,
        card: { brand: details.brand, last4: details.last4, exp_month: 12, exp_year: 2034 },
      });
      if (options.makeDefault !== false) {
        customer.invoice_settings = { default_payment_method: pmId };
      }
      return pmId;
    },
    loseNextPaymentIntentResponses(count) {
      responsesToLose = count;
    },
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
  return signedStripePayload(secret, payload, options.timestamp);
}

/** Signs any body (an event or not) as Stripe would. */
export function signedStripePayload(secret: string, payload: string, timestamp?: number) {
  const signature = Stripe.webhooks.generateTestHeaderString({
    payload,
    secret,
    ...(timestamp ? { timestamp } : {}),
  });
  return { payload, signature };
}
