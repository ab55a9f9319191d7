// The job queue: pg-boss in the same PostgreSQL. Jobs are enqueued inside the caller's
// transaction (pg-boss's own `send`, writing through the transaction's connection), so a job exists
// if and only if the rows that asked for it were committed.
//
// Waking workers: pg-boss can NOTIFY from inside the job's insert (a queue's `notify` option), but a
// NOTIFY in a transaction takes a database-wide lock at commit, held through the commit's WAL flush:
// every transaction that notifies commits one after another, never in a group. So the queues we
// enqueue into from requests are created without `notify`, and the enqueuing process sends pg-boss's
// own wake-up (the NOTIFY pg-boss would have sent) after the transaction commits, on pg-boss's pool,
// at most one per queue every WAKE_COALESCE_MS. Workers in every process LISTEN as before; should a
// wake-up be lost, their 2-second poll still finds the job.
import type { EntityManager } from '@mikro-orm/postgresql';
import { PgBoss, type Queue, type SendOptions } from 'pg-boss';
import { notifyQueue } from 'pg-boss/dist/plans.js';
import type { Logger } from '../../common/logger.ts';
import { afterCommit } from '../../db/after-commit.ts';
import { prepared, sql } from '../../db/sql.ts';
import { isDatabaseUnavailable } from '../../db/unavailable.ts';

export const QUEUES = {
  /** Runs one generation on its provider. */
  generationRun: 'generation-run',
  /** Generation jobs that failed every attempt (or whose workers died): failed and refunded here. */
  generationDead: 'generation-dead',
  /** Every minute: generations whose provider callback never came are asked about and settled. */
  generationReconcile: 'generation-reconcile',
  /** Every 5 minutes: releases the credits held for generations that can no longer finish. */
  holdSweep: 'hold-sweep',
  /** The daily retention sweep. */
  retention: 'retention',
  /** Every 10 minutes: takes back what is left of expired credit grants. */
  creditExpiry: 'credit-expiry',
  /** Every 10 minutes: yearly plans' monthly credits; the dev checkout's renewals. */
  billingCycle: 'billing-cycle',
  /** Pays for one triggered auto top-up (Stripe off-session, or the dev checkout). */
  autoTopUp: 'auto-top-up',
  /** Builds and publishes one project deployment. */
  projectDeploy: 'project-deploy',
  /** Deployment jobs that failed every attempt (or whose workers died): the deployment fails here. */
  projectDeployDead: 'project-deploy-dead',
  /** Hourly db:verify, its result kept for /metrics (ledger drift). */
  ledgerVerify: 'ledger-verify',
  /** Daily: a backup of the database (base backup or dump), keeping the last BACKUP_KEEP. */
  databaseBackup: 'database-backup',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export type GenerationJob = { generationId: string };

/** Per-attempt limit for a generation; a stuck attempt is retried, then dead-lettered. */
export const GENERATION_TIMEOUT_SECONDS = 300;

// Created in this order: a dead-letter queue must exist before the queue that names it.
const QUEUE_OPTIONS: Record<QueueName, Omit<Queue, 'name'>> = {
  [QUEUES.generationDead]: { retryLimit: 5, retryBackoff: true, notify: true },
  [QUEUES.generationRun]: {
    retryLimit: 3,
    retryDelay: 2,
    retryBackoff: true,
    retryDelayMax: 60,
    expireInSeconds: GENERATION_TIMEOUT_SECONDS,
    // A worker that stops heartbeating (killed, frozen) loses the job to another worker.
    heartbeatSeconds: 10,
    deadLetter: QUEUES.generationDead,
    // Woken after commit instead (see the top of this file).
    notify: false,
  },
  [QUEUES.generationReconcile]: { retryLimit: 0, expireInSeconds: 600 },
  [QUEUES.holdSweep]: { retryLimit: 1, expireInSeconds: 600 },
  [QUEUES.retention]: { retryLimit: 1, expireInSeconds: 3600 },
  [QUEUES.creditExpiry]: { retryLimit: 2, expireInSeconds: 600 },
  [QUEUES.billingCycle]: { retryLimit: 2, expireInSeconds: 600 },
  // Transient failures (Stripe unreachable) retry under the same idempotency key; a decline does not.
  [QUEUES.autoTopUp]: {
    retryLimit: 3,
    retryDelay: 5,
    retryBackoff: true,
    retryDelayMax: 120,
    expireInSeconds: 120,
    notify: true,
  },
  [QUEUES.ledgerVerify]: { retryLimit: 1, expireInSeconds: 1800 },
  [QUEUES.databaseBackup]: { retryLimit: 2, retryDelay: 600, expireInSeconds: 4 * 3600 },
  [QUEUES.projectDeployDead]: { retryLimit: 5, retryBackoff: true, notify: true },
  [QUEUES.projectDeploy]: {
    retryLimit: 3,
    retryDelay: 2,
    retryBackoff: true,
    retryDelayMax: 60,
    expireInSeconds: 300,
    heartbeatSeconds: 10,
    deadLetter: QUEUES.projectDeployDead,
    // Woken after commit instead (see the top of this file).
    notify: false,
  },
};

export type JobsOptions = {
  url: string;
  ssl?: boolean;
  logger: Logger;
  /** How often pg-boss looks for expired jobs and dead workers (seconds; default 30). */
  superviseIntervalSeconds?: number;
  /** Run cron schedules (the retention job) from this process. */
  schedule?: boolean;
};

export type Jobs = {
  boss: PgBoss;
  /** Enqueues inside `em`'s current transaction (or on its own when there is none). */
  enqueue<T extends object>(
    em: EntityManager,
    queue: QueueName,
    data: T,
    options?: SendOptions,
  ): Promise<string | null>;
  /** Wakes the queue's workers once `em`'s transaction commits (after a job inserted by jobInsertSql). */
  wakeAfterCommit(em: EntityManager, queue: QueueName): void;
  stop(options?: { graceful?: boolean; timeoutMs?: number }): Promise<void>;
};

/**
 * One job of `queue`, inserted into pg-boss's job table by a CTE of a bigger statement, so the job
 * is written by the statement that asks for it (generations.create). The row is the one pg-boss's
 * `send(queue, data)` writes — the queue's retry, expiry, retention, dead-letter and heartbeat
 * settings copied from pgboss.queue, start now — without send's general-purpose insert
 * (a JSON recordset, option fallbacks, singleton slots), which costs PostgreSQL twice the time.
 * Its data is parameter number `param`; nothing is inserted unless `when` (SQL) holds; `priority`
 * (SQL, default 0) is the job's pg-boss priority (higher runs first). Pinned to
 * pg-boss 12.38's schema: test/jobs/job-insert.test.ts checks the row against send()'s.
 */
export function jobInsertSql(queue: QueueName, param: number, when: string, priority = '0'): string {
  return `insert into ${SCHEMA}.${JOB_TABLE}
    (id, name, data, priority, start_after, created_on, singleton_key, singleton_on, group_id, group_tier,
     expire_seconds, deletion_seconds, keep_until, retry_limit, retry_delay, retry_backoff, retry_delay_max,
     policy, dead_letter, heartbeat_seconds, blocked, blocking, pending_dependencies, trace_context)
  select gen_random_uuid(), q.name, $${param}::jsonb, ${priority}, now(), now(), null, null, null, null,
         q.expire_seconds, q.deletion_seconds, now() + q.retention_seconds * interval '1 second', q.retry_limit,
         q.retry_delay, q.retry_backoff, q.retry_delay_max, q.policy, q.dead_letter, q.heartbeat_seconds,
         false, false, 0, null
    from ${SCHEMA}.queue q
   where q.name = '${queue}' and ${when}
  returning id`;
}

/** A job's data, as jobInsertSql's parameter. */
export const jobData = (data: object): string => JSON.stringify(data);

export async function startJobs(options: JobsOptions): Promise<Jobs> {
  const boss = new PgBoss({
    connectionString: options.url,
    ssl: options.ssl ? { rejectUnauthorized: false } : undefined,
    max: 4,
    application_name: 'forgeline-jobs',
    useListenNotify: true,
    schedule: options.schedule ?? false,
    superviseIntervalSeconds: options.superviseIntervalSeconds ?? 30,
    monitorIntervalSeconds: options.superviseIntervalSeconds ?? 30,
  });
  // pg-boss keeps polling (and re-LISTENs) by itself: an unreachable database is only a warning.
  boss.on('error', (error) => {
    if (isDatabaseUnavailable(error)) options.logger.warn({ err: error }, 'job queue waits for the database');
    else options.logger.error({ err: error }, 'job queue error');
  });
  boss.on('warning', (warning) => options.logger.warn({ warning }, 'job queue warning'));
  await boss.start();
  for (const [name, queueOptions] of Object.entries(QUEUE_OPTIONS)) {
    const existing = await boss.getQueue(name);
    if (!existing) await boss.createQueue(name, queueOptions);
    // Queues created before wake-ups moved after commit still notify from inside the insert.
    else if (Boolean(existing.notify) !== Boolean(queueOptions.notify))
      await boss.updateQueue(name, { notify: queueOptions.notify ?? false });
  }

  const wakes = coalescedWakes(boss, options.logger);
  return {
    boss,
    async enqueue(em, queue, data, sendOptions = {}) {
      // pg-boss's send, through the caller's transaction. Its insert is a fixed text per queue:
      // prepared once per connection (server/db/sql.ts).
      const db = {
        executeSql: async (text: string, values?: unknown[]) => ({
          rows: await sql<Record<string, unknown>>(em, prepared(text), values ?? []),
        }),
      };
      const id = await boss.send(queue, data, { ...sendOptions, db });
      if (!QUEUE_OPTIONS[queue].notify) afterCommit(em, () => wakes.wake(queue));
      return id;
    },
    wakeAfterCommit(em, queue) {
      afterCommit(em, () => wakes.wake(queue));
    },
    async stop({ graceful = true, timeoutMs = 10_000 } = {}) {
      wakes.cancel();
      await boss.stop({ graceful, timeout: timeoutMs, close: true });
    },
  };
}

/** How long wake-ups for one queue are gathered into one NOTIFY. */
export const WAKE_COALESCE_MS = 20;

/**
 * pg-boss's wake-up for a queue (the NOTIFY its insert sends on a `notify` queue), sent on
 * pg-boss's own pool outside any transaction, at most once per queue every WAKE_COALESCE_MS.
 */
export function coalescedWakes(boss: PgBoss, logger: Pick<Logger, 'warn'>) {
  const due = new Map<QueueName, NodeJS.Timeout>();
  return {
    wake(queue: QueueName) {
      if (due.has(queue)) return;
      const timer = setTimeout(() => {
        due.delete(queue);
        boss
          .getDb()
          .executeSql(notifyQueue(SCHEMA, queue))
          .catch((error: unknown) => logger.warn({ err: error, queue }, 'could not wake the job workers'));
      }, WAKE_COALESCE_MS);
      due.set(queue, timer.unref());
    },
    /** Drops the wake-ups not sent yet (on shutdown: the workers' poll finds those jobs). */
    cancel() {
      for (const timer of due.values()) clearTimeout(timer);
      due.clear();
    },
  };
}

/** pg-boss's schema (its default; the same in every process). */
const SCHEMA = 'pgboss';
/** The table pg-boss keeps the jobs of every non-partitioned queue in (all of ours). */
const JOB_TABLE = 'job_common';
