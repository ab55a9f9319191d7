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
import { insertJobs, notifyQueue } from 'pg-boss/dist/plans.js';
import type { Logger } from '../../common/logger.ts';
import { afterCommit } from '../../db/after-commit.ts';
import { prepared, sql } from '../../db/sql.ts';

export const QUEUES = {
  /** Runs one generation on its provider. */
  generationRun: 'generation-run',
  /** Generation jobs that failed every attempt (or whose workers died): failed and refunded here. */
  generationDead: 'generation-dead',
  /** The daily retention sweep. */
  retention: 'retention',
  /** Every 10 minutes: takes back what is left of expired credit grants. */
  creditExpiry: 'credit-expiry',
  /** Builds and publishes one project deployment. */
  projectDeploy: 'project-deploy',
  /** Deployment jobs that failed every attempt (or whose workers died): the deployment fails here. */
  projectDeployDead: 'project-deploy-dead',
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
  [QUEUES.retention]: { retryLimit: 1, expireInSeconds: 3600 },
  [QUEUES.creditExpiry]: { retryLimit: 2, expireInSeconds: 600 },
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
 * pg-boss's own insert of one job into `queue` — the statement `send` runs, from pg-boss's
 * plans — for use as a CTE of a bigger statement, so the job is written by the statement that asks
 * for it (generations.create). Its payload (jobPayload) is parameter number `param`; when `when`
 * (an SQL condition) is false the payload is null and no job is inserted. Pinned to pg-boss 12.38:
 * test/jobs/job-insert.test.ts checks the row it writes is the row `send` writes.
 */
export function jobInsertSql(queue: QueueName, param: number, when: string): string {
  const insert = insertJobs(SCHEMA, { table: JOB_TABLE, name: queue, returnId: true, notify: false });
  if (!insert.includes('json_to_recordset($1::text::json)')) {
    throw new Error('pg-boss changed its job insert: review jobInsertSql (server/modules/jobs/queue.ts)');
  }
  return insert.replace('$1::text::json', `(case when ${when} then $${param} end)::text::json`);
}

/** The payload `send(queue, data)` passes to its insert (no send options: the queue's defaults apply). */
export function jobPayload(queue: QueueName, data: object): string {
  return JSON.stringify([
    {
      id: null,
      name: queue,
      data,
      priority: 0,
      singletonKey: null,
      singletonOffset: 0,
      groupId: null,
      groupTier: null,
      deadLetter: null,
    },
  ]);
}

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
  boss.on('error', (error) => options.logger.error({ err: error }, 'job queue error'));
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
