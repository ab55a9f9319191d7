// Prometheus metrics. The request path records only tRPC procedure timings — a Map lookup and a
// bucket increment per call (`recordProcedure` in trpc/procedure-timings.ts, ~0.1 µs); everything
// else (pool, job queues, webhooks, the last db:verify) is read when /metrics is scraped (see
// metrics.http.ts).
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { procedureErrors } from '../../trpc/procedure-timings.ts';

export { procedureTimingsText } from '../../trpc/procedure-timings.ts';

const gauge = (registry: Registry, name: string, help: string, labelNames: string[] = []) =>
  new Gauge({ name, help, labelNames, registers: [registry] });

/**
 * A registry for one HTTP app: process defaults, procedure errors and the scrape-time gauges (the
 * procedure histogram is appended as text: procedureTimingsText).
 */
export function createMetricsRegistry() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registry.registerMetric(procedureErrors);
  return {
    registry,
    pool: {
      inUse: gauge(registry, 'forgeline_db_pool_in_use', 'database connections checked out of the pool'),
      idle: gauge(registry, 'forgeline_db_pool_idle', 'idle database connections in the pool'),
      waiting: gauge(registry, 'forgeline_db_pool_waiting', 'queries waiting for a pool connection'),
      max: gauge(registry, 'forgeline_db_pool_max', 'the pool size limit (PGPOOL_MAX)'),
    },
    queues: {
      jobs: gauge(
        registry,
        'forgeline_queue_jobs',
        'pg-boss jobs by queue and state: ready (due, waiting for a worker), deferred (retry or start time ahead), active, failed (recent failures still retained)',
        ['queue', 'state'],
      ),
      oldestReady: gauge(
        registry,
        'forgeline_queue_oldest_ready_seconds',
        'how long the oldest ready job of each queue has waited for a worker (0 when none)',
        ['queue'],
      ),
    },
    webhooks: {
      pending: gauge(
        registry,
        'forgeline_webhook_events_pending',
        'stored payment webhooks not yet applied',
        ['provider'],
      ),
      failing: gauge(
        registry,
        'forgeline_webhook_events_failing',
        'stored payment webhooks whose last processing attempt failed (waiting for redelivery)',
        ['provider'],
      ),
      oldestPending: gauge(
        registry,
        'forgeline_webhook_oldest_pending_seconds',
        'processing lag: age of the oldest webhook not yet applied (0 when none)',
        ['provider'],
      ),
    },
    verify: {
      violations: gauge(
        registry,
        'forgeline_ledger_verify_violations',
        'rows breaking each invariant at the last db:verify',
        ['check'],
      ),
      drift: gauge(
        registry,
        'forgeline_ledger_drift_credits',
        'credits by which balances differed from their ledgers at the last db:verify (sum of |balance − ledger|)',
      ),
      lastRun: gauge(
        registry,
        'forgeline_ledger_verify_last_run_timestamp_seconds',
        'when the last db:verify ran (unix seconds; 0 = never)',
      ),
      duration: gauge(
        registry,
        'forgeline_ledger_verify_duration_seconds',
        'how long the last db:verify took',
      ),
    },
    collectErrors: new Counter({
      name: 'forgeline_metrics_collect_errors_total',
      help: 'scrapes where a source could not be read (its series are left out of that scrape)',
      labelNames: ['source'],
      registers: [registry],
    }),
  };
}
export type MetricsRegistry = ReturnType<typeof createMetricsRegistry>;
