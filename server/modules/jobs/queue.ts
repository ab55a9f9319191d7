// The job queue: pg-boss in the same PostgreSQL. Jobs are enqueued inside the caller's
// transaction (pg-boss writes through the transaction's Kysely connection), so a job exists if
// and only if the rows that asked for it were committed.
import type { EntityManager } from '@mikro-orm/postgresql';
import { fromKysely, PgBoss, type Queue, type SendOptions } from 'pg-boss';
import type { Logger } from '../../common/logger.ts';

export const QUEUES = {
  /** Runs one generation on its provider. */
  generationRun: 'generation-run',
  /** Generation jobs that failed every attempt (or whose workers died): failed and refunded here. */
  generationDead: 'generation-dead',
  /** Every minute: generations whose provider callback never came are asked about and settled. */
  generationReconcile: 'generation-reconcile',
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
    notify: true,
  },
  [QUEUES.generationReconcile]: { retryLimit: 0, expireInSeconds: 600 },
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
  [QUEUES.projectDeployDead]: { retryLimit: 5, retryBackoff: true, notify: true },
  [QUEUES.projectDeploy]: {
    retryLimit: 3,
    retryDelay: 2,
    retryBackoff: true,
    retryDelayMax: 60,
    expireInSeconds: 300,
    heartbeatSeconds: 10,
    deadLetter: QUEUES.projectDeployDead,
    notify: true,
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
  stop(options?: { graceful?: boolean; timeoutMs?: number }): Promise<void>;
};

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
    if (!(await boss.getQueue(name))) await boss.createQueue(name, queueOptions);
  }

  return {
    boss,
    enqueue(em, queue, data, sendOptions = {}) {
      const db = fromKysely(em.getKysely() as unknown as Parameters<typeof fromKysely>[0]);
      return boss.send(queue, data, { ...sendOptions, db });
    },
    async stop({ graceful = true, timeoutMs = 10_000 } = {}) {
      await boss.stop({ graceful, timeout: timeoutMs, close: true });
    },
  };
}
