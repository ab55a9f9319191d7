// POST /webhooks/provider/:name — AI provider callbacks. Verified by the provider (signature and
// timestamp), then applied through the same conditional transitions as the worker, so duplicate,
// concurrent and out-of-order callbacks change nothing twice. A callback that arrives before we
// recorded its prediction id is acknowledged and ignored: the worker asks the provider once right
// after recording it, and the reconciliation job settles whatever callback never came.
import express, { type Router } from 'express';
import type { Deps } from '../../runtime.ts';
import { Generation } from './generation.entity.ts';
import { finish } from './generation-runner.ts';
import { failRun } from './generations.service.ts';
import {
  ProviderOutputsGoneError,
  type ProviderResult,
  ProviderUnavailableError,
} from './providers/provider.ts';

export function providerWebhookRoutes(deps: Deps): Router {
  const routes = express.Router();
  routes.post(
    '/webhooks/provider/:name',
    express.raw({ type: () => true, limit: 1024 * 1024 }),
    async (req, res, next) => {
      try {
        const provider = deps.runtime.providers[req.params.name];
        if (!provider?.parseWebhook) return void res.status(404).json({ error: 'Unknown provider' });
        const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const event = await provider.parseWebhook({ headers: req.headers, rawBody });
        if (!event) return void res.status(400).json({ error: 'Invalid webhook signature' });
        const generation = await deps.orm.em
          .fork()
          .findOne(
            Generation,
            { provider: provider.name, providerPredictionId: event.predictionId },
            { fields: ['id', 'status'] },
          );
        if (generation?.status === 'running') {
          const runner = { orm: deps.orm, storage: deps.runtime.storage, logger: deps.logger };
          let result: ProviderResult;
          try {
            result = await event.result();
          } catch (error) {
            if (error instanceof ProviderOutputsGoneError) {
              await deps.orm.em
                .fork()
                .transactional((em) =>
                  failRun(
                    em,
                    generation.id,
                    'The provider deleted the outputs before they could be collected',
                  ),
                );
              return void res.json({ received: true });
            }
            if (error instanceof ProviderUnavailableError) {
              // The provider redelivers; failing that, the reconciliation job asks again.
              deps.logger.warn(
                { err: error, generationId: generation.id },
                'provider webhook: outputs unavailable',
              );
              return void res.status(503).json({ error: 'The outputs could not be fetched yet' });
            }
            throw error;
          }
          await finish(runner, generation.id, result);
        }
        res.json({ received: true });
      } catch (error) {
        next(error);
      }
    },
  );
  return routes;
}
