// GET /metrics: Prometheus text format, for a scraper holding METRICS_TOKEN as a Bearer token (no
// token configured = no /metrics). Database-backed values are read here, once per scrape.
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Router } from 'express';
import { WEBHOOK_PROVIDERS } from '../../../shared/schemas/billing.ts';
import type { Deps } from '../../runtime.ts';
import { lastVerifyRun, readQueueDepths, readWebhookBacklog } from './metrics.service.ts';
import { createMetricsRegistry, type MetricsRegistry, procedureTimingsText } from './metrics.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

export function metricsRoutes(deps: Deps): Router {
  const routes = express.Router();
  const token = deps.config.metricsToken;
  if (!token) return routes;
  const expected = digest(`Bearer ${token}`);
  const metrics = createMetricsRegistry();

  routes.get('/metrics', async (req, res, next) => {
    try {
      if (!timingSafeEqual(digest(req.get('authorization') ?? ''), expected)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
        return void res.status(401).json({ error: 'A valid metrics token is required' });
      }
      await collect(deps, metrics);
      res.setHeader('Content-Type', metrics.registry.contentType);
      res.setHeader('Cache-Control', 'no-store');
      res.send((await metrics.registry.metrics()) + procedureTimingsText());
    } catch (error) {
      next(error);
    }
  });
  return routes;
}

/** Fills the scrape-time gauges. A source that cannot be read is counted and left out, not fatal. */
async function collect(deps: Deps, metrics: MetricsRegistry): Promise<void> {
  const { orm, logger } = deps;
  const em = orm.em.fork();
  const guard = async (source: string, read: () => Promise<void>) => {
    try {
      await read();
    } catch (error) {
      metrics.collectErrors.inc({ source });
      logger.warn({ err: error, source }, 'metrics source unavailable');
    }
  };
  const { pool, queues, webhooks, verify } = metrics;
  await Promise.all([
    guard('pool', async () => {
      const pg = await orm.em.getConnection().getNativeClient();
      pool.inUse.set(pg.totalCount - pg.idleCount);
      pool.idle.set(pg.idleCount);
      pool.waiting.set(pg.waitingCount);
      pool.max.set(deps.config.pool.max);
    }),
    guard('queues', async () => {
      const depths = await readQueueDepths(em.fork());
      queues.jobs.reset();
      queues.oldestReady.reset();
      for (const { queue, oldestReadySeconds, ...states } of depths) {
        for (const [state, count] of Object.entries(states)) queues.jobs.set({ queue, state }, count);
        queues.oldestReady.set({ queue }, oldestReadySeconds);
      }
    }),
    guard('webhooks', async () => {
      const backlog = new Map((await readWebhookBacklog(em.fork())).map((row) => [row.provider, row]));
      for (const provider of WEBHOOK_PROVIDERS) {
        const row = backlog.get(provider);
        webhooks.pending.set({ provider }, row?.pending ?? 0);
        webhooks.failing.set({ provider }, row?.failing ?? 0);
        webhooks.oldestPending.set({ provider }, row?.oldestPendingSeconds ?? 0);
      }
    }),
    guard('verify', async () => {
      const run = await lastVerifyRun(em.fork());
      verify.violations.reset();
      verify.drift.reset();
      verify.lastRun.reset();
      verify.duration.reset();
      if (!run) return;
      for (const [check, count] of Object.entries(run.byCheck)) verify.violations.set({ check }, count);
      verify.drift.set(run.drift);
      verify.lastRun.set(run.createdAt.getTime() / 1000);
      verify.duration.set(run.durationMs / 1000);
    }),
  ]);
}
