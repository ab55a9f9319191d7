// A loopback HTTP server speaking the Replicate predictions protocol: create, get, cancel, the
// webhook signing secret, output files, and "completed" webhooks signed with the Standard Webhooks
// SDK. Each prediction follows the next scripted plan (default: succeed at once).
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export type PredictionPlan = {
  outcome?: 'succeeded' | 'failed';
  /** Stays 'processing' until release(id) is called. */
  hold?: boolean;
  /** Answer the create call with HTTP 500 this many times first. */
  failCreates?: number;
  /** Deliver the completed webhook this many times, concurrently. */
  webhookCopies?: number;
  /** Also deliver a stale 'processing' webhook after the completed one. */
  staleAfter?: boolean;
  /** Output files (images) to return; 0 = text output. */
  outputs?: number;
  /** The completed webhook is lost on the way (never delivered); sendWebhook() still delivers one late. */
  loseWebhooks?: boolean;
};

type Prediction = {
  id: string;
  status: 'starting' | 'processing' | 'succeeded' | 'failed' | 'canceled';
  input: Record<string, unknown>;
  output: unknown;
  error: string | null;
  webhook?: string;
  plan: PredictionPlan;
};

export type FakeReplicate = {
  url: string;
  token: string;
  secret: string;
  predictions: Map<string, Prediction>;
  plan(next: PredictionPlan): void;
  release(id: string): Promise<void>;
  /** Sends a webhook for the prediction as it is now (optionally tampered). */
  sendWebhook(id: string, options?: { tamper?: boolean; status?: Prediction['status'] }): Promise<number>;
  /** Deletes a prediction's output files, as Replicate does an hour after it finished (404 from then on). */
  expireOutputs(id: string): void;
  /** While down, every API call answers 503 (outputs still download). */
  setDown(down: boolean): void;
  /** How many times each prediction was read (GET /v1/predictions/:id). */
  reads: Map<string, number>;
  close(): Promise<void>;
};

const readBody = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

const pngLike = (id: string, n: number) =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><title>${id}-${n}</title><rect width="10" height="10"/></svg>`;

export async function startFakeReplicate(token = 'r8_loopback_test_token'): Promise<FakeReplicate> {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const signer = new Webhook(secret);
  const predictions = new Map<string, Prediction>();
  const plans: PredictionPlan[] = [];
  const expired = new Set<string>();
  const reads = new Map<string, number>();
  let down = false;
  let createFailures = 0;
  let server: Server;
  let url = '';

  const view = (p: Prediction) => ({
    id: p.id,
    status: p.status,
    input: p.input,
    output: p.output,
    error: p.error,
    metrics: p.status === 'succeeded' ? { predict_time: 0.01, output_token_count: 42 } : {},
    urls: { get: `${url}/v1/predictions/${p.id}`, cancel: `${url}/v1/predictions/${p.id}/cancel` },
  });

  async function deliver(p: Prediction, body: object, tamper = false): Promise<number> {
    if (!p.webhook) return 0;
    const payload = JSON.stringify(body);
    const id = `msg_${randomBytes(6).toString('hex')}`;
    const timestamp = new Date();
    const response = await fetch(p.webhook, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
        'webhook-signature': signer.sign(id, timestamp, payload),
      },
      body: tamper ? payload.replace('"succeeded"', '"failed"') : payload,
    });
    return response.status;
  }

  async function complete(p: Prediction) {
    if (p.status === 'canceled') return;
    const outputs = p.plan.outputs ?? Number(p.input.num_outputs ?? 1);
    if (p.plan.outcome === 'failed') {
      p.status = 'failed';
      p.error = 'CUDA out of memory';
    } else {
      p.status = 'succeeded';
      p.output =
        outputs > 0
          ? Array.from({ length: outputs }, (_, n) => `${url}/outputs/${p.id}/${n}.svg`)
          : ['Generated ', 'text about ', String(p.input.prompt ?? '')];
    }
    if (p.plan.loseWebhooks) return;
    const copies = p.plan.webhookCopies ?? 1;
    await Promise.all(Array.from({ length: copies }, () => deliver(p, view(p))));
    if (p.plan.staleAfter) await deliver(p, { ...view(p), status: 'processing', output: null });
  }

  server = createServer(async (req, res) => {
    const send = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path.startsWith('/outputs/')) {
      const [, , id = '', file = ''] = path.split('/');
      if (expired.has(id)) return send(404, 'Not found', 'text/plain');
      return send(200, pngLike(id, Number.parseInt(file, 10)), 'image/svg+xml');
    }
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, { detail: 'Unauthenticated' });
    if (down) return send(503, { detail: 'Service unavailable' });
    if (req.method === 'GET' && path === '/v1/webhooks/default/secret') return send(200, { key: secret });
    if (req.method === 'POST' && path === '/v1/predictions') {
      const body = JSON.parse(await readBody(req)) as { input: Record<string, unknown>; webhook?: string };
      const plan = plans.shift() ?? {};
      if (plan.failCreates && createFailures < plan.failCreates) {
        createFailures++;
        plans.unshift(plan);
        return send(500, { detail: 'Internal server error' });
      }
      createFailures = 0;
      const p: Prediction = {
        id: randomBytes(10).toString('hex'),
        status: 'starting',
        input: body.input,
        output: null,
        error: null,
        webhook: body.webhook,
        plan,
      };
      predictions.set(p.id, p);
      send(201, view(p));
      if (!plan.hold) setImmediate(() => void complete(p));
      else p.status = 'processing';
      return;
    }
    const match = /^\/v1\/predictions\/([^/]+)(\/cancel)?$/.exec(path);
    const p = match ? predictions.get(match[1] ?? '') : undefined;
    if (!p) return send(404, { detail: 'Not found' });
    if (req.method === 'POST' && match?.[2]) {
      if (p.status === 'starting' || p.status === 'processing') p.status = 'canceled';
      return send(200, view(p));
    }
    if (req.method === 'GET') {
      reads.set(p.id, (reads.get(p.id) ?? 0) + 1);
      return send(200, view(p));
    }
    send(405, { detail: 'Method not allowed' });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    token,
    secret,
    predictions,
    plan: (next) => plans.push(next),
    async release(id) {
      const p = predictions.get(id);
      if (p) await complete(p);
    },
    async sendWebhook(id, options = {}) {
      const p = predictions.get(id);
      if (!p) throw new Error(`no prediction ${id}`);
      return deliver(
        p,
        { ...view(p), ...(options.status ? { status: options.status } : {}) },
        options.tamper,
      );
    },
    expireOutputs: (id) => void expired.add(id),
    setDown: (value) => {
      down = value;
    },
    reads,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
