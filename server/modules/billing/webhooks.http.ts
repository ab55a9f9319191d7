// POST /webhooks/stripe and POST /webhooks/polar: raw body (signatures cover the exact bytes),
// verified, stored, applied once. 400 for a bad signature (nothing stored) or a signed body that is
// not an event (stored as rejected), 200 for an applied or duplicate event, 500 when applying
// failed (recorded; the provider redelivers).
import express, { type Router } from 'express';
import type { Deps } from '../../runtime.ts';
import {
  receivePolarWebhook,
  receiveStripeWebhook,
  WebhookNotConfiguredError,
  WebhookRejectedError,
  WebhookSignatureError,
} from './payment-webhooks.ts';

export function paymentWebhookRoutes(deps: Deps): Router {
  const routes = express.Router();
  const paymentDeps = {
    orm: deps.orm,
    config: deps.config,
    stripe: deps.runtime.stripe,
    polar: deps.runtime.polar,
  };
  const raw = express.raw({ type: () => true, limit: 1024 * 1024 });

  const handle =
    (receive: (rawBody: Buffer, req: express.Request) => Promise<'applied' | 'duplicate'>) =>
    async (req: express.Request, res: express.Response) => {
      const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      try {
        const result = await receive(rawBody, req);
        res.json({ received: true, result });
      } catch (error) {
        if (error instanceof WebhookSignatureError || error instanceof WebhookRejectedError)
          return void res.status(400).json({ error: error.message });
        if (error instanceof WebhookNotConfiguredError)
          return void res.status(503).json({ error: error.message });
        deps.logger.warn(
          { err: error, requestId: req.id },
          'payment webhook failed; the provider will redeliver',
        );
        res
          .status(500)
          .json({ error: 'The event could not be applied; it was recorded and will be retried' });
      }
    };

  routes.post(
    '/webhooks/stripe',
    raw,
    handle((rawBody, req) => receiveStripeWebhook(paymentDeps, rawBody, req.get('stripe-signature'))),
  );
  routes.post(
    '/webhooks/polar',
    raw,
    handle((rawBody, req) => receivePolarWebhook(paymentDeps, rawBody, req.headers)),
  );
  return routes;
}
