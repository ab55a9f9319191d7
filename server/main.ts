// Process entry: boot (config → database → seed on first run → client build if missing → runtime,
// with the job workers unless RUN_WORKER=false; see boot.ts) → HTTP app → listen. SIGINT/SIGTERM
// drain in-flight requests, then in-flight jobs, then close the ORM, then stop PostgreSQL.
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { CLIENT_DIST, createApp, ROOT_DIR } from './app.ts';
import { boot } from './boot.ts';
import { seedDatabase } from './db/seed.ts';

const SHUTDOWN_GRACE_MS = 10_000;
const dev = process.argv.includes('--dev');

const { config, logger, db, runtime, onShutdown } = await boot({
  async prepare({ db, logger }) {
    const { admin } = await seedDatabase(db.orm, logger);
    if (admin) {
      console.log(`\n  Demo admin account (shown once): ${admin.email} / ${admin.password}\n`);
    }
    // `--no-client-build`: an API process that need not build the client first (the tests; a
    // deployment serving dist/client from elsewhere).
    if (!dev && !process.argv.includes('--no-client-build') && !existsSync(join(CLIENT_DIST, 'index.html'))) {
      logger.info('building the client (first start)');
      const { build } = await import('vite');
      await build({ configFile: join(ROOT_DIR, 'client', 'vite.config.ts'), logLevel: 'warn' });
    }
  },
  messages: {
    stopping: 'shutting down: draining requests',
    finishingJobs: 'finishing in-flight jobs',
    stopped: 'stopped',
  },
});

const app = await createApp({ orm: db.orm, config, logger, runtime, dev });
const server: Server = app.listen(config.port, config.host, () => {
  console.log(`\n  Forgeline is running at ${config.publicUrl}\n`);
});
server.keepAliveTimeout = 65_000;

onShutdown(async () => {
  const forced = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
  await new Promise<void>((done) => {
    server.close(() => done());
    server.closeIdleConnections();
  });
  clearTimeout(forced);
});
