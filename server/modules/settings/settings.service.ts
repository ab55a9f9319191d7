// The admin settings singleton: read by credits (feature costs) and identity (sign-up bonus).
//
// Read on every generation, changed a few times a year: each process keeps the row in memory while
// it LISTENs for changes (watchSettings, started with the runtime). A change NOTIFYs from its
// transaction (settingsChanged), so every process drops its copy once the change commits. Without
// a listener (CLI tools, scripts) every read goes to the database.
import { randomBytes } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { DEFAULT_FEATURE_COSTS, DEFAULT_SIGNUP_BONUS } from '../../../shared/defaults.ts';
import type { Logger } from '../../common/logger.ts';
import { afterCommit } from '../../db/after-commit.ts';
import { prepared, sql } from '../../db/sql.ts';

export type SettingsDto = { featureCosts: typeof DEFAULT_FEATURE_COSTS; signupBonus: number };

const CHANNEL = 'forgeline_settings';

const SETTINGS_SQL = prepared('select feature_costs, signup_bonus from admin_settings limit 1');

type Cache = { value: SettingsDto | null; version: number };
/** Per ORM (keyed by its driver, which every fork shares), while its process listens for changes. */
const caches = new WeakMap<object, Cache>();

/** The settings, from this process's copy when it has one. */
export async function getSettings(em: EntityManager): Promise<SettingsDto> {
  const cache = caches.get(em.getDriver());
  if (!cache) return readSettings(em);
  if (cache.value) return cache.value;
  // Read on the caller's connection (never a second pool connection while it may hold one).
  const version = cache.version;
  const value = await readSettings(em);
  // A change heard while reading makes this read stale: keep it out of the cache.
  if (cache.version === version) cache.value = value;
  return value;
}

/** The stored settings as `em` sees them now, or the defaults from shared/ when the row was never written. */
export async function readSettings(em: EntityManager): Promise<SettingsDto> {
  const [row] = await sql<{
    feature_costs: Partial<SettingsDto['featureCosts']> | null;
    signup_bonus: number;
  }>(em, SETTINGS_SQL);
  return {
    featureCosts: { ...DEFAULT_FEATURE_COSTS, ...row?.feature_costs },
    signupBonus: row?.signup_bonus ?? DEFAULT_SIGNUP_BONUS,
  };
}

/** Tells every process the settings changed (call in the transaction that changes them). */
export async function settingsChanged(em: EntityManager): Promise<void> {
  await em.execute('select pg_notify(?, ?)', [CHANNEL, '']);
  // This process drops its copy at once on commit (the notification arrives a moment later).
  const cache = caches.get(em.getDriver());
  if (cache) afterCommit(em, () => invalidate(cache));
}

function invalidate(cache: Cache) {
  cache.version++;
  cache.value = null;
}

/**
 * Keeps this process's copy of the settings while a connection LISTENs for changes; reconnects
 * after a loss (and drops the copy: changes made meanwhile were not heard).
 */
export async function watchSettings(options: {
  orm: MikroORM;
  url: string;
  ssl?: boolean;
  logger: Logger;
}): Promise<{ close(): Promise<void> }> {
  const key = options.orm.em.getDriver();
  const cache: Cache = { value: null, version: 0 };
  let client: pg.Client | null = null;
  let closed = false;
  let retryMs = 250;

  const connect = async () => {
    const next = new pg.Client({
      connectionString: options.url,
      ssl: options.ssl ? { rejectUnauthorized: false } : undefined,
      application_name: 'forgeline-settings',
    });
    next.on('notification', (message) => {
      if (message.channel === CHANNEL) invalidate(cache);
    });
    next.on('error', (error) => {
      options.logger.warn({ err: error }, 'settings listener connection lost; reconnecting');
      caches.delete(key);
      void next.end().catch(() => {});
      if (client === next) client = null;
      scheduleReconnect();
    });
    await next.connect();
    await next.query(`listen ${CHANNEL}`);
    if (closed) {
      await next.end();
      return;
    }
    client = next;
    retryMs = 250;
    invalidate(cache);
    caches.set(key, cache);
  };
  const scheduleReconnect = () => {
    if (closed) return;
    setTimeout(() => {
      connect().catch(() => {
        retryMs = Math.min(retryMs * 2, 10_000);
        scheduleReconnect();
      });
    }, retryMs).unref();
  };
  await connect();
  return {
    async close() {
      closed = true;
      caches.delete(key);
      await client?.end().catch(() => {});
    },
  };
}

/** Writes the default settings row once; a no-op when it exists. */
export async function ensureSettings(em: EntityManager): Promise<void> {
  await em.getConnection().execute(
    `insert into admin_settings (id, feature_costs, signup_bonus, signing_secret, created_at, updated_at)
     values (gen_random_uuid(), ?::jsonb, ?, ?, now(), now()) on conflict do nothing`,
    [JSON.stringify(DEFAULT_FEATURE_COSTS), DEFAULT_SIGNUP_BONUS, randomBytes(32).toString('hex')],
    'run',
    em.getTransactionContext(),
  );
}

let signingSecret: Promise<string> | undefined;
/** The HMAC key for signed links; read once per process (it never changes). */
export function getSigningSecret(em: EntityManager): Promise<string> {
  signingSecret ??= em
    .getConnection()
    .execute<{ signing_secret: string }[]>('select signing_secret from admin_settings limit 1')
    .then((rows) => {
      const secret = rows[0]?.signing_secret;
      if (!secret) throw new Error('admin_settings has no signing secret: run the seed (npm run db:seed)');
      return secret;
    })
    .catch((error: unknown) => {
      signingSecret = undefined;
      throw error;
    });
  return signingSecret;
}
