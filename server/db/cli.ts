// The db:* commands: migrate, migrate:create [name], migrate:down, reset (dev only), seed,
// sync-stripe (Stripe products and prices → plans and packages), verify (every invariant of spec
// §5; non-zero exit on a violation), setup-admin --email <e> [--password <p>] [--name <n>]
// [--role admin|super_admin] (create or promote).

import { createLogger } from '../common/logger.ts';
import { loadConfig } from '../config.ts';
import { syncStripeCatalog } from '../modules/billing/stripe-catalog.ts';
import { createStripeClient } from '../modules/billing/stripe-client.ts';
import { verifyAndRecord } from '../modules/metrics/metrics.service.ts';
import { backupDatabase, restoreDatabase } from './backup.ts';
import { migrateToLatest, openDatabase } from './orm.ts';
import { seedDatabase } from './seed.ts';
import { setupAdmin } from './setup-admin.ts';
import { verifyInvariants } from './verify.ts';

const [command, ...args] = process.argv.slice(2);
const config = loadConfig();
const logger = createLogger(config.logLevel);

const commands: Record<string, () => Promise<void>> = {
  async migrate() {
    await withDatabase(async () => {}, { migrate: true });
  },
  async 'migrate:create'() {
    await withDatabase(
      async ({ orm }) => {
        const result = await orm.migrator.create(undefined, false, false, args[0]);
        console.log(result.fileName ? `created migrations/${result.fileName}` : 'no schema changes');
      },
      { migrate: true },
    );
  },
  async 'migrate:down'() {
    await withDatabase(async ({ orm }) => {
      const reverted = await orm.migrator.down();
      console.log(
        reverted.length ? `reverted ${reverted.map((m) => m.name).join(', ')}` : 'nothing to revert',
      );
    });
  },
  async reset() {
    if (config.isProduction) throw new Error('db:reset refuses to run with NODE_ENV=production');
    await withDatabase(async ({ orm }) => {
      await orm.em.getConnection().execute('drop schema public cascade; create schema public;');
      await migrateToLatest(orm, logger);
      await seedDatabase(orm, logger);
      console.log('database reset, migrated and seeded');
    });
  },
  async seed() {
    await withDatabase(async ({ orm }) => {
      await seedDatabase(orm, logger);
    });
  },
  async verify() {
    await withDatabase(async ({ orm }) => {
      const violations = await verifyAndRecord(orm, 'cli', (error) =>
        console.warn(`db:verify: the result was not recorded for /metrics (${(error as Error).message})`),
      );
      if (violations.length === 0) {
        console.log('db:verify: every invariant holds');
        return;
      }
      for (const violation of violations)
        console.log(`✗ ${violation.check}: ${JSON.stringify(violation.detail)}`);
      console.log(`db:verify: ${violations.length} violation(s)`);
      process.exitCode = 1;
    });
  },
  async backup() {
    const file = args[0] ?? `backups/forgeline-${new Date().toISOString().replace(/[:.]/g, '-')}.dump`;
    await withDatabase(async ({ url }) => {
      await backupDatabase(url, file);
      console.log(`backed up to ${file}`);
    });
  },
  async restore() {
    const file = args[0];
    if (!file) throw new Error('usage: npm run db:restore -- <file.dump>');
    if (config.isProduction && !args.includes('--yes')) {
      throw new Error('db:restore replaces the production database: add --yes if you mean it');
    }
    await withDatabase(async ({ orm, url }) => {
      await restoreDatabase(url, file);
      const violations = await verifyInvariants(orm.em.fork());
      for (const violation of violations)
        console.log(`✗ ${violation.check}: ${JSON.stringify(violation.detail)}`);
      console.log(
        violations.length
          ? `restored, but db:verify found ${violations.length} violation(s)`
          : `restored ${file}; db:verify is clean`,
      );
      if (violations.length) process.exitCode = 1;
    });
  },
  async 'setup-admin'() {
    const option = (name: string) => {
      const index = args.indexOf(`--${name}`);
      return index >= 0 ? args[index + 1] : undefined;
    };
    const email = option('email');
    if (!email)
      throw new Error(
        'usage: npm run db:setup-admin -- --email <email> [--password <pw>] [--name <name>] [--role admin|super_admin]',
      );
    await withDatabase(async ({ orm }) => {
      const result = await setupAdmin(orm, {
        email,
        password: option('password'),
        name: option('name'),
        role: option('role'),
      });
      console.log(result.created ? `created ${result.role} ${email}` : `promoted ${email} to ${result.role}`);
      if (result.generatedPassword) console.log(`password (shown once): ${result.generatedPassword}`);
    });
  },
  async 'sync-stripe'() {
    const stripe = createStripeClient(config);
    if (!stripe)
      throw new Error('db:sync-stripe needs STRIPE_SECRET_KEY (and STRIPE_API_BASE for a non-Stripe host)');
    await withDatabase(async ({ orm }) => {
      const report = await orm.em.fork().transactional((em) => syncStripeCatalog(em, stripe));
      console.log(`synced ${report.plans} plans and ${report.packages} packages from Stripe`);
      if (report.skipped.length) {
        console.log(
          `skipped ${report.skipped.length} products without forgeline_kind metadata: ${report.skipped.join(', ')}`,
        );
      }
    });
  },
};

async function withDatabase(
  run: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<void>,
  options: { migrate?: boolean } = { migrate: false },
) {
  const db = await openDatabase(config, logger, options);
  try {
    await run(db);
  } finally {
    await db.close();
  }
}

const run = command ? commands[command] : undefined;
if (!run) {
  console.error(`usage: node server/db/cli.ts <${Object.keys(commands).join('|')}>`);
  process.exit(2);
}
try {
  await run();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
