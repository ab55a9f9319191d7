// What runs beside the ORM: the job queue, live generation events, file storage, AI providers,
// and (when this process is a worker) the job handlers. Built once by the server, the worker
// and the tests.
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { JobWithMetadata } from 'pg-boss';
import type { Logger } from './common/logger.ts';
import type { Config } from './config.ts';
import { type BackupPlan, backupNow } from './db/backup.ts';
import { verifyInvariants } from './db/verify.ts';
import {
  type AutoTopUpJob,
  chargeAutoTopUp,
  startAutoTopUpSweep,
} from './modules/billing/auto-top-up.service.ts';
import { runBillingCycle } from './modules/billing/billing-cycle.ts';
import { createPolarClient, type PolarClient } from './modules/billing/polar-client.ts';
import { createStripeClient, type StripeClient } from './modules/billing/stripe-client.ts';
import { expireGrants } from './modules/credits/credits.service.ts';
import { type GenerationEvents, startGenerationEvents } from './modules/generations/generation-events.ts';
import { reconcileGenerations } from './modules/generations/generation-reconcile.ts';
import { runGeneration } from './modules/generations/generation-runner.ts';
import { failRun } from './modules/generations/generations.service.ts';
import { sweepHolds } from './modules/generations/hold-sweep.ts';
import { createLocalProvider } from './modules/generations/providers/local-provider.ts';
import type { GenerationProvider } from './modules/generations/providers/provider.ts';
import { createReplicateProvider } from './modules/generations/providers/replicate-provider.ts';
import { liveCredentials } from './modules/identity/access-events.ts';
import { type GenerationJob, type Jobs, QUEUES, startJobs } from './modules/jobs/queue.ts';
import { startMailDelivery } from './modules/mail/mail.service.ts';
import { createMailTransport } from './modules/mail/mail-transport.ts';
import { verifyAndRecord } from './modules/metrics/metrics.service.ts';
import { type DeploymentJob, failDeployment, runDeployment } from './modules/projects/project-deploy.ts';
import { runRetention } from './modules/retention/retention.service.ts';
import { watchSettings } from './modules/settings/settings.service.ts';
import { createStorage, type StorageDriver } from './modules/storage/storage-driver.ts';

/** The daily backup, in UTC (pg-boss cron): at night, away from retention (03:17). */
export const BACKUP_CRON = '40 2 * * *';

/** What every context and HTTP route shares: the ORM, configuration, logger and this runtime. */
export type Deps = { orm: MikroORM; config: Config; logger: Logger; runtime: Runtime };

export type Runtime = {
  jobs: Jobs;
  events: GenerationEvents;
  storage: StorageDriver;
  providers: Record<string, GenerationProvider>;
  /** The provider new generations use (AI_PROVIDER). */
  providerName: string;
  webhookBaseUrl: string | null;
  /** The Stripe SDK when STRIPE_SECRET_KEY is set. */
  stripe: StripeClient | null;
  /** Polar's API when POLAR_ACCESS_TOKEN is set. */
  polar: PolarClient | null;
  /** Registers the job handlers in this process. */
  startWorkers(options?: { concurrency?: number; pollIntervalMs?: number }): Promise<void>;
  stop(): Promise<void>;
};

export type RuntimeOptions = {
  orm: MikroORM;
  databaseUrl: string;
  config: Config;
  logger: Logger;
  /** Extra providers (tests register loopback fakes here). */
  providers?: Record<string, GenerationProvider>;
  /** Overrides where providers send callbacks (tests point it at their loopback server). */
  webhookBaseUrl?: string | null;
  /** Overrides AI_PROVIDER for new generations (tests). */
  providerName?: string;
  superviseIntervalSeconds?: number;
  /** Where the local storage driver keeps files (default $DATA_DIR/storage). */
  storageRoot?: string;
  /** Overrides the Stripe client (tests point one at a loopback Stripe). */
  stripe?: StripeClient | null;
  /** Overrides the Polar client. */
  polar?: PolarClient | null;
  /** How often the mail loop looks for due mail (default 2 s). */
  mailIntervalMs?: number;
  /** How often open live streams re-check their session or API key (default 5 s). */
  accessRecheckMs?: number;
  /** How often the worker looks for balances that crossed an auto top-up threshold (default 5 s). */
  autoTopUpSweepMs?: number;
  /** Where the daily backup job writes (none: no backup job in this process). */
  backupPlan?: BackupPlan | null;
};

export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { orm, config, logger } = options;
  const jobs = await startJobs({
    url: options.databaseUrl,
    ssl: config.databaseSsl,
    logger,
    schedule: config.runWorker,
    superviseIntervalSeconds: options.superviseIntervalSeconds,
  });
  const events = await startGenerationEvents({
    url: options.databaseUrl,
    ssl: config.databaseSsl,
    logger,
    checkAccess: (credentials) => liveCredentials(orm.em.fork(), credentials),
    recheckMs: options.accessRecheckMs,
  });
  // Admin settings kept in memory while this process hears their changes.
  const settings = await watchSettings({ orm, url: options.databaseUrl, ssl: config.databaseSsl, logger });
  const storage = createStorage(config, options.storageRoot ?? join(config.dataDir, 'storage'));
  const providers: Record<string, GenerationProvider> = {
    local: createLocalProvider(),
    ...(config.aiProvider.url
      ? {
          replicate: createReplicateProvider({
            baseUrl: config.aiProvider.url,
            token: config.aiProvider.token,
            expectedSeconds: config.aiProvider.expectedSeconds,
          }),
        }
      : {}),
    ...options.providers,
  };
  // Providers can only call us back where we are publicly reachable; otherwise the worker polls.
  const webhookBaseUrl =
    options.webhookBaseUrl !== undefined
      ? options.webhookBaseUrl
      : config.publicUrl.startsWith('https:')
        ? config.publicUrl
        : null;

  let mailDelivery: { stop(): Promise<void> } | null = null;
  let autoTopUpSweep: { stop(): Promise<void> } | null = null;
  const mailTransport = createMailTransport(config, logger);

  const runtime: Runtime = {
    jobs,
    events,
    storage,
    providers,
    providerName: options.providerName ?? config.aiProvider.name,
    webhookBaseUrl,
    stripe: options.stripe !== undefined ? options.stripe : createStripeClient(config),
    polar: options.polar !== undefined ? options.polar : createPolarClient(config),
    async startWorkers({ concurrency = 4, pollIntervalMs } = {}) {
      const instance = config.instanceName ?? `${hostname()}:${process.pid}`;
      const runnerDeps = {
        orm,
        logger,
        storage,
        providers,
        pollIntervalMs,
        get webhookBaseUrl() {
          return runtime.webhookBaseUrl;
        },
      };
      // NOTIFY wakes workers for new jobs at once, but not when a delayed retry becomes due: without
      // notifyPollingIntervalSeconds the backstop poll is 30 s, and every retry would wait that long.
      const polling = { pollingIntervalSeconds: 2, notifyPollingIntervalSeconds: 2 };
      await jobs.boss.work<GenerationJob>(
        QUEUES.generationRun,
        { includeMetadata: true, localConcurrency: concurrency, ...polling },
        async ([job]) => {
          if (!job) return;
          await runGeneration(runnerDeps, job.data.generationId, {
            retryCount: job.retryCount,
            retryLimit: (job as JobWithMetadata<GenerationJob>).retryLimit,
            signal: job.signal,
          });
          return { ranBy: instance }; // the job's output: which process ran it
        },
      );
      await jobs.boss.work<GenerationJob>(QUEUES.generationDead, polling, async ([job]) => {
        if (!job) return;
        await orm.em
          .fork()
          .transactional((em) =>
            failRun(
              em,
              job.data.generationId,
              'The generation timed out or its worker stopped; it was not completed',
            ),
          );
      });
      await jobs.boss.work(QUEUES.generationReconcile, async ([job]) => {
        const report = await reconcileGenerations(
          { orm, logger, storage, providers },
          { signal: job?.signal },
        );
        if (report.checked > 0) logger.info(report, 'generation reconciliation');
        return report;
      });
      await jobs.boss.schedule(QUEUES.generationReconcile, '* * * * *');
      await jobs.boss.work(QUEUES.holdSweep, async () => {
        const report = await sweepHolds(orm);
        if (report.failed + report.orphansReleased + report.settled > 0) logger.info(report, 'hold sweep');
        return report;
      });
      await jobs.boss.schedule(QUEUES.holdSweep, '*/5 * * * *');
      await jobs.boss.work(QUEUES.retention, async () => {
        const report = await runRetention(
          { orm, storage },
          { retentionDays: config.generationRetentionDays },
        );
        logger.info(report, 'retention run');
        return report;
      });
      await jobs.boss.schedule(QUEUES.retention, '17 3 * * *');
      await jobs.boss.work(QUEUES.creditExpiry, async () => {
        const expired = await expireGrants(orm.em.fork());
        if (expired > 0) logger.info({ expired }, 'expired credit grants');
        return { expired };
      });
      await jobs.boss.schedule(QUEUES.creditExpiry, '*/10 * * * *');
      await jobs.boss.work(QUEUES.billingCycle, async () => {
        const report = await runBillingCycle({
          orm,
          config,
          stripe: runtime.stripe,
          polar: runtime.polar,
        });
        if (report.monthlyGrants > 0 || report.devRenewals > 0) logger.info(report, 'billing cycle');
        return report;
      });
      await jobs.boss.schedule(QUEUES.billingCycle, '*/10 * * * *');
      await jobs.boss.work(QUEUES.ledgerVerify, async () => {
        const violations = await verifyAndRecord(orm, 'job');
        if (violations.length > 0)
          logger.warn({ violations: violations.length }, 'db:verify found violations');
        return { violations: violations.length };
      });
      await jobs.boss.schedule(QUEUES.ledgerVerify, '41 * * * *');
      if (options.backupPlan) {
        const plan = options.backupPlan;
        await jobs.boss.work(QUEUES.databaseBackup, async () => {
          const result = await backupNow(plan);
          const violations = await verifyInvariants(orm.em.fork());
          if (violations.length) logger.error({ violations }, 'db:verify after the backup found violations');
          logger.info({ ...result, verified: violations.length === 0 }, 'database backup');
          return {
            path: result.path,
            bytes: result.bytes,
            removed: result.removed,
            violations: violations.length,
          };
        });
        if (plan.keep > 0) await jobs.boss.schedule(QUEUES.databaseBackup, BACKUP_CRON);
        else await jobs.boss.unschedule(QUEUES.databaseBackup);
      }
      const deployDeps = { orm, storage, publicUrl: config.publicUrl, logger };
      await jobs.boss.work<DeploymentJob>(
        QUEUES.projectDeploy,
        { includeMetadata: true, ...polling },
        async ([job]) => {
          if (!job) return;
          await runDeployment(deployDeps, job.data.deploymentId, {
            retryCount: job.retryCount,
            retryLimit: (job as JobWithMetadata<DeploymentJob>).retryLimit,
          });
        },
      );
      await jobs.boss.work<DeploymentJob>(QUEUES.projectDeployDead, polling, async ([job]) => {
        if (!job) return;
        await orm.em
          .fork()
          .transactional((em) =>
            failDeployment(em, job.data.deploymentId, 'The deployment timed out or its worker stopped'),
          );
      });
      const billingDeps = {
        orm,
        config,
        logger,
        jobs,
        get stripe() {
          return runtime.stripe;
        },
        get polar() {
          return runtime.polar;
        },
      };
      await jobs.boss.work<AutoTopUpJob>(
        QUEUES.autoTopUp,
        { includeMetadata: true, ...polling },
        async ([job]) => {
          if (!job) return;
          await chargeAutoTopUp(billingDeps, job.data.attemptId, {
            retryCount: job.retryCount,
            retryLimit: (job as JobWithMetadata<AutoTopUpJob>).retryLimit,
          });
        },
      );
      autoTopUpSweep ??= startAutoTopUpSweep(billingDeps, { intervalMs: options.autoTopUpSweepMs });
      mailDelivery ??= startMailDelivery({
        fork: () => orm.em.fork(),
        transport: mailTransport,
        logger,
        intervalMs: options.mailIntervalMs,
      });
    },
    async stop() {
      await autoTopUpSweep?.stop();
      await mailDelivery?.stop();
      await mailTransport.close();
      await jobs.stop({ graceful: true });
      await events.close();
      await settings.close();
    },
  };
  return runtime;
}
