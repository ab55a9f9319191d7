// Prometheus metrics. The request path records only tRPC procedure timings — a Map lookup and a
// bucket increment per call (`recordProcedure`, ~0.1 µs); everything else (pool, job queues, webhooks, the
// last db:verify) is read when /metrics is scraped (see metrics.http.ts).
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

// Procedure timings are kept here rather than in a prom-client Histogram: its observe() validates and
// hashes the labels on every call (~0.3–1.5 µs here); this is a Map lookup and three increments.
const PROCEDURE_SECONDS = 'forgeline_trpc_procedure_duration_seconds';
const BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
type Timings = { buckets: Float64Array; sum: number; count: number };
/** Per procedure path (the router's paths: a bounded set); buckets[i] counts calls in (BOUNDS[i-1], BOUNDS[i]]. */
const timings = new Map<string, Timings>();

const procedureErrors = new Counter({
  name: 'forgeline_trpc_procedure_errors_total',
  help: 'tRPC procedure calls that failed, by procedure path and tRPC error code',
  labelNames: ['procedure', 'code'],
  registers: [],
});

/** Called once per procedure call by the tRPC middleware; `errorCode` null when it succeeded. */
export function recordProcedure(path: string, seconds: number, errorCode: string | null): void {
  let series = timings.get(path);
  if (series === undefined) {
    series = { buckets: new Float64Array(BOUNDS.length + 1), sum: 0, count: 0 };
    timings.set(path, series);
  }
  let bucket = 0;
  while (bucket < BOUNDS.length && seconds > (BOUNDS[bucket] as number)) bucket++;
  series.buckets[bucket] = (series.buckets[bucket] as number) + 1;
  series.sum += seconds;
  series.count++;
  if (errorCode !== null) procedureErrors.inc({ procedure: path, code: errorCode });
}

const labelValue = (value: string) => value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));

/** The procedure histogram in Prometheus text format (cumulative buckets, _sum, _count). */
export function procedureTimingsText(): string {
  const lines = [
    `# HELP ${PROCEDURE_SECONDS} tRPC procedure calls by procedure path: duration (and, as _count, the call rate)`,
    `# TYPE ${PROCEDURE_SECONDS} histogram`,
  ];
  for (const [path, { buckets, sum, count }] of timings) {
    const procedure = `procedure="${labelValue(path)}"`;
    let cumulative = 0;
    BOUNDS.forEach((bound, i) => {
      cumulative += buckets[i] as number;
      lines.push(`${PROCEDURE_SECONDS}_bucket{le="${bound}",${procedure}} ${cumulative}`);
    });
    lines.push(`${PROCEDURE_SECONDS}_bucket{le="+Inf",${procedure}} ${count}`);
    lines.push(`${PROCEDURE_SECONDS}_sum{${procedure}} ${sum}`);
    lines.push(`${PROCEDURE_SECONDS}_count{${procedure}} ${count}`);
  }
  return `${lines.join('\n')}\n`;
}

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
