// The db:* commands: migrate, migrate:create [name], migrate:down, reset (dev only), seed,
// sync-stripe (Stripe products and prices → plans and packages), verify (every invariant of spec
// §5; non-zero exit on a violation), setup-admin --email <e> [--password <p>] [--name <n>]
// [--role admin|super_admin] (create or promote), backup [file], restore <backup> [--to <time>],
// backup:check (see backup.ts). Without DATABASE_URL they use the embedded PostgreSQL: the one a
// running server already runs, or one started for the command.

import { createLogger } from '../common/logger.ts';
import { loadConfig } from '../config.ts';
import { syncStripeCatalog } from '../modules/billing/stripe-catalog.ts';
import { createStripeClient } from '../modules/billing/stripe-client.ts';
import { verifyAndRecord } from '../modules/metrics/metrics.service.ts';
import {
  backupNow,
  backupPlanFor,
  checkLatestBackup,
  findBaseBackup,
  parseTargetTime,
  restoreDatabase,
  restorePhysical,
} from './backup.ts';
import { migrateToLatest, openDatabase } from './orm.ts';
import { seedDatabase } from './seed.ts';
import { setupAdmin } from './setup-admin.ts';
import { sqlOutsideTransaction } from './sql.ts';
import { type Violation, verifyInvariants } from './verify.ts';

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
      await sqlOutsideTransaction(orm.em, 'drop schema public cascade; create schema public;');
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
    // Embedded: a physical base backup of the running server (started here if nothing runs it);
    // DATABASE_URL: a pg_dump (optionally to the file given).
    await withDatabase(async ({ orm, url }) => {
      const result = await backupNow(backupPlanFor(config, url), config.databaseUrl ? args[0] : undefined);
      console.log(
        `${result.kind === 'physical' ? 'base backup' : 'dump'} written to ${result.path} (${megabytes(result.bytes)})`,
      );
      for (const removed of result.removed) console.log(`removed an older backup: ${removed}`);
      reportVerify(await verifyInvariants(orm.em.fork()), 'the database');
    });
  },
  async restore() {
    const to = option('to');
    const [which] = positionals();
    if (config.isProduction && !args.includes('--yes')) {
      throw new Error('db:restore replaces the production database: add --yes if you mean it');
    }
    if (config.databaseUrl) {
      if (!which) throw new Error('usage: npm run db:restore -- <file.dump>');
      if (to)
        throw new Error('--to needs the embedded database (WAL archive); a dump restores as it was taken');
      await withDatabase(async ({ orm, url }) => {
        await restoreDatabase(url, which);
        reportVerify(await verifyInvariants(orm.em.fork()), `restored ${which};`);
      });
      return;
    }
    const plan = backupPlanFor(config, '');
    if (plan.kind !== 'physical') return;
    const target = to ? parseTargetTime(to) : undefined;
    const backup = findBaseBackup(plan, which, target);
    console.log(
      `restoring ${backup.name} (taken ${backup.finishedAt}) ${target ? `to ${target}` : 'to the end of the WAL archive'}`,
    );
    const result = await restorePhysical(plan, backup, { to: target, config, logger });
    if (result.previous) console.log(`the data directory it replaced was moved to ${result.previous}`);
    console.log(`restored: ${describeCounts(result.counts)}`);
    reportVerify(result.violations, `restored ${backup.name};`);
  },
  async 'backup:check'() {
    const plan = backupPlanFor(config, config.databaseUrl ?? '');
    const result = await checkLatestBackup(plan, config, logger);
    console.log(
      `restored ${result.backup} into a temporary ${plan.kind === 'physical' ? 'cluster' : 'database'}: ${describeCounts(result.counts)}`,
    );
    reportVerify(result.violations, 'backup check:');
  },
  async 'setup-admin'() {
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

function option(name: string): string | undefined {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
}

/** Arguments that are neither `--flag` nor a flag's value. */
function positionals(): string[] {
  return args.filter((arg, index) => !arg.startsWith('--') && !(index > 0 && args[index - 1] === '--to'));
}

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const describeCounts = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([name, count]) => `${count} ${name}`)
    .join(', ');

/** Prints db:verify's verdict (non-zero exit on a violation). */
function reportVerify(violations: Violation[], subject: string) {
  for (const violation of violations)
    console.log(`✗ ${violation.check}: ${JSON.stringify(violation.detail)}`);
  if (violations.length === 0) {
    console.log(`${subject} db:verify is clean`);
    return;
  }
  console.log(`${subject} db:verify found ${violations.length} violation(s)`);
  process.exitCode = 1;
}

async function withDatabase(
  run: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<void>,
  options: { migrate?: boolean } = { migrate: false },
) {
  // Beside a running server, use its embedded PostgreSQL rather than starting another.
  const db = await openDatabase(config, logger, { ...options, attach: true });
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
