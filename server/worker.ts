// `npm run worker`: the job worker alone (generations, dead letters, retention, backups), for
// running workers apart from API processes (set RUN_WORKER=false on those). Without DATABASE_URL it
// uses the embedded PostgreSQL a server on this machine already runs (or starts its own). Started
// the way the server is (boot.ts), without HTTP. SIGINT/SIGTERM finish in-flight jobs before exiting.
import { boot } from './boot.ts';

const { logger, shutdown } = await boot({
  config: (config) => ({ ...config, runWorker: true }),
  runtime: { superviseIntervalSeconds: Number(process.env.WORKER_SUPERVISE_SECONDS) || undefined },
  startWorkers: () => true,
  messages: { stopping: 'worker stopping: finishing in-flight jobs' },
});
logger.info('worker started');
console.log('worker ready');

// Started by `npm run cluster` (over an IPC channel): a worker does not outlive its cluster.
if (process.channel) process.once('disconnect', () => void shutdown('the cluster process is gone'));
