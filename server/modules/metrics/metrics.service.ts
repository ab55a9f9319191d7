// What /metrics reads at scrape time (job queues, webhook backlog, the last db:verify), and db:verify
// with its result recorded — by the hourly `ledger-verify` job and by `npm run db:verify`. Reads
// across modules' tables (pg-boss's, webhook_events); writes only verify_runs.
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { sqlOutsideTransaction } from '../../db/sql.ts';
import { INVARIANT_CHECKS, type Violation, verifyInvariants } from '../../db/verify.ts';
import { VerifyRun } from './verify-run.entity.ts';

export type QueueDepth = {
  queue: string;
  ready: number;
  deferred: number;
  active: number;
  failed: number;
  oldestReadySeconds: number;
};

/** Every pg-boss queue's live jobs by state, and how long its oldest ready job has waited. */
export function readQueueDepths(em: EntityManager): Promise<QueueDepth[]> {
  // The filter on state matches pg-boss's partial index over live jobs (job_i14). A scrape-time
  // gauge: on the pool, outside any transaction (docs/decisions/0007).
  return sqlOutsideTransaction<QueueDepth>(
    em,
    `select q.name as queue,
            count(j.id) filter (where j.state < 'active' and not j.blocked and j.start_after <= now())::int as ready,
            count(j.id) filter (where j.state < 'active' and (j.blocked or j.start_after > now()))::int as deferred,
            count(j.id) filter (where j.state = 'active')::int as active,
            count(j.id) filter (where j.state = 'failed')::int as failed,
            coalesce(extract(epoch from now() - min(j.start_after)
              filter (where j.state < 'active' and not j.blocked and j.start_after <= now())), 0)::float8
              as "oldestReadySeconds"
       from pgboss.queue q
       left join pgboss.job j on j.name = q.name and j.state in ('created', 'retry', 'active', 'failed')
      group by q.name
      order by q.name`,
  );
}

export type WebhookBacklog = {
  provider: string;
  pending: number;
  failing: number;
  oldestPendingSeconds: number;
};

/** Payment webhooks stored but not applied yet, per provider (a partial index keeps this small). */
export function readWebhookBacklog(em: EntityManager): Promise<WebhookBacklog[]> {
  return sqlOutsideTransaction<WebhookBacklog>(
    em,
    `select provider::text as provider,
            count(*)::int as pending,
            count(*) filter (where error is not null)::int as failing,
            extract(epoch from now() - min(received_at))::float8 as "oldestPendingSeconds"
       from webhook_events
      where processed_at is null
      group by provider`,
  );
}

export async function lastVerifyRun(em: EntityManager): Promise<VerifyRun | null> {
  const [last] = await em.find(VerifyRun, {}, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: 1 });
  return last ?? null;
}

/** Verify runs older than this are deleted when a new one is recorded. */
const VERIFY_RUNS_KEPT_DAYS = 30;

/**
 * Runs every invariant check (db:verify), records the result in verify_runs and returns the
 * violations. With `onRecordError`, failing to record (a read-only replica) is reported there
 * instead of thrown: the checks' result still stands.
 */
export async function verifyAndRecord(
  orm: MikroORM,
  source: VerifyRun['source'],
  onRecordError?: (error: unknown) => void,
): Promise<Violation[]> {
  const started = performance.now();
  const violations = await verifyInvariants(orm.em.fork());
  const durationMs = Math.round(performance.now() - started);
  const byCheck = Object.fromEntries(INVARIANT_CHECKS.map((check) => [check, 0]));
  let drift = 0;
  for (const { check, detail } of violations) {
    byCheck[check] = (byCheck[check] ?? 0) + 1;
    if (check === 'balance equals the sum of the ledger') {
      drift += Math.abs(Number(detail.balance) - Number(detail.ledger_sum));
    }
  }
  try {
    await orm.em.fork().transactional(async (em) => {
      em.create(VerifyRun, { source, durationMs, violations: violations.length, byCheck, drift });
      await em.flush();
      await em.nativeDelete(VerifyRun, {
        createdAt: { $lt: new Date(Date.now() - VERIFY_RUNS_KEPT_DAYS * 24 * 60 * 60 * 1000) },
      });
    });
  } catch (error) {
    if (!onRecordError) throw error;
    onRecordError(error);
  }
  return violations;
}
