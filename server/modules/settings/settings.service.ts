// The admin settings: the sign-up bonus (admin_settings, one row) and the feature costs, versioned
// (feature_cost_versions: a change is a new version effective from a moment, never an edit).
//
// Read on every generation, changed a few times a year: each process keeps them in memory while it
// LISTENs for changes (watchSettings, started with the runtime) — the version in force and every
// scheduled one, so a version taking effect later needs no read and no announcement. A change
// NOTIFYs from its transaction (settingsChanged), so every process drops its copy once the change
// commits. Without a listener (CLI tools, scripts) every read goes to the database.
import { randomBytes } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { DEFAULT_FEATURE_COSTS, DEFAULT_SIGNUP_BONUS } from '../../../shared/defaults.ts';
import { AppError } from '../../common/app-error.ts';
import { uuidv7 } from '../../common/ids.ts';
import type { Logger } from '../../common/logger.ts';
import { afterCommit } from '../../db/after-commit.ts';
import { prepared, sql, sqlOutsideTransaction } from '../../db/sql.ts';

export type FeatureCosts = typeof DEFAULT_FEATURE_COSTS;

/** A version of the feature costs: the price a generation records (`id`) with its unit cost. */
export type PriceVersion = { id: string; costs: FeatureCosts; effectiveFrom: Date };

export type SettingsDto = {
  /** The costs in force now (the defaults while no version exists). */
  featureCosts: FeatureCosts;
  /** The version those costs come from; null only before the first version was written. */
  priceVersion: { id: string; effectiveFrom: Date } | null;
  /** The next version scheduled, if any. */
  nextPriceVersion: { id: string; effectiveFrom: Date; costs: FeatureCosts } | null;
  signupBonus: number;
};

const CHANNEL = 'forgeline_settings';

/**
 * What a process keeps: the bonus, and the version in force when read followed by every scheduled
 * one, in the order they take effect (effective_from, then created_at: a later version of the same
 * moment replaces an earlier one).
 */
type Snapshot = { signupBonus: number; base: PriceVersion | null; scheduled: PriceVersion[] };

// `base`: the version in force at the database's now(); `scheduled`: the later ones. The base stays
// in force in this process until a scheduled one's moment passes on this process's clock, so a
// clock a little behind the database's never falls back to an older price (or the defaults).
const SETTINGS_SQL = prepared(`
select (select signup_bonus from admin_settings limit 1) as signup_bonus,
       (select row_to_json(v) from (select id, costs, effective_from from feature_cost_versions
                                     where effective_from <= now()
                                     order by effective_from desc, created_at desc limit 1) v) as base,
       (select coalesce(json_agg(v order by v.effective_from, v.created_at), '[]'::json)
          from (select id, costs, effective_from, created_at from feature_cost_versions
                 where effective_from > now()) v) as scheduled`);

type Cache = { value: Snapshot | null; version: number };
/** Per ORM (keyed by its driver, which every fork shares), while its process listens for changes. */
const caches = new WeakMap<object, Cache>();

/** The settings in force now, from this process's copy when it has one. */
export async function getSettings(em: EntityManager, now = new Date()): Promise<SettingsDto> {
  const cache = caches.get(em.getDriver());
  if (!cache) return resolve(await readSnapshot(em), now);
  if (cache.value) return resolve(cache.value, now);
  // Read on the caller's connection (never a second pool connection while it may hold one).
  const version = cache.version;
  const value = await readSnapshot(em);
  // A change heard while reading makes this read stale: keep it out of the cache.
  if (cache.version === version) cache.value = value;
  return resolve(value, now);
}

/** The stored settings as `em` sees them now (read, never cached), or the defaults from shared/. */
export async function readSettings(em: EntityManager): Promise<SettingsDto> {
  return resolve(await readSnapshot(em), new Date());
}

async function readSnapshot(em: EntityManager): Promise<Snapshot> {
  type VersionRow = { id: string; costs: Partial<FeatureCosts>; effective_from: string };
  const [row] = await sql<{
    signup_bonus: number | null;
    base: VersionRow | null;
    scheduled: VersionRow[];
  }>(em, SETTINGS_SQL);
  const version = (v: VersionRow): PriceVersion => ({
    id: v.id,
    costs: { ...DEFAULT_FEATURE_COSTS, ...v.costs },
    effectiveFrom: new Date(v.effective_from),
  });
  return {
    signupBonus: row?.signup_bonus ?? DEFAULT_SIGNUP_BONUS,
    base: row?.base ? version(row.base) : null,
    scheduled: (row?.scheduled ?? []).map(version),
  };
}

function resolve(snapshot: Snapshot, now: Date): SettingsDto {
  // `scheduled` is in the order the versions take effect (a later one of the same moment wins).
  let current = snapshot.base;
  let next: PriceVersion | null = null;
  for (const version of snapshot.scheduled) {
    if (version.effectiveFrom.getTime() <= now.getTime()) current = version;
    else if (!next || version.effectiveFrom.getTime() === next.effectiveFrom.getTime()) next = version;
  }
  return {
    featureCosts: current?.costs ?? { ...DEFAULT_FEATURE_COSTS },
    priceVersion: current ? { id: current.id, effectiveFrom: current.effectiveFrom } : null,
    nextPriceVersion: next ? { id: next.id, effectiveFrom: next.effectiveFrom, costs: next.costs } : null,
    signupBonus: snapshot.signupBonus,
  };
}

/** How far ahead a price change may be scheduled. */
const SCHEDULE_LIMIT_MS = 366 * 24 * 60 * 60 * 1000;

/**
 * Writes a new version of the feature costs (`changes` over the costs in force), effective from
 * `effectiveFrom` (now when left out). Without a date, costs equal to those in force write nothing
 * (null). Generations already created keep the version they were priced with. The caller audits
 * and calls settingsChanged.
 */
export async function publishFeatureCosts(
  em: EntityManager,
  createdBy: string | null,
  changes: Partial<FeatureCosts>,
  effectiveFrom?: Date,
): Promise<PriceVersion | null> {
  const now = new Date();
  if (effectiveFrom) {
    // A minute of slack for the clock of whoever picked "now" in a form.
    if (effectiveFrom.getTime() < now.getTime() - 60_000) {
      throw new AppError('bad_request', 'A price change cannot take effect in the past', {
        fieldErrors: { effectiveFrom: ['Pick a moment from now on'] },
      });
    }
    if (effectiveFrom.getTime() > now.getTime() + SCHEDULE_LIMIT_MS) {
      throw new AppError('bad_request', 'A price change can be scheduled at most a year ahead', {
        fieldErrors: { effectiveFrom: ['At most a year from now'] },
      });
    }
  }
  const current = await readSettings(em);
  const costs = { ...current.featureCosts, ...changes };
  const unchanged = (Object.keys(costs) as (keyof FeatureCosts)[]).every(
    (operation) => costs[operation] === current.featureCosts[operation],
  );
  if (unchanged && !effectiveFrom && current.priceVersion) return null;
  const version: PriceVersion = {
    id: uuidv7(),
    costs,
    effectiveFrom: effectiveFrom && effectiveFrom > now ? effectiveFrom : now,
  };
  // "Now" is the database's now(): the moment the version is compared with when it is read.
  const rows = await sql<{ effective_from: Date }>(
    em,
    `insert into feature_cost_versions (id, costs, effective_from, created_by_id, created_at)
     values ($1, $2::jsonb, case when $3::timestamptz > now() then $3::timestamptz else now() end, $4, now())
     returning effective_from`,
    [version.id, JSON.stringify(costs), version.effectiveFrom, createdBy],
  );
  return { ...version, effectiveFrom: new Date(rows[0]?.effective_from ?? version.effectiveFrom) };
}

/** The versions of the feature costs, the latest to take effect first (with who made each). */
export async function listPriceVersions(em: EntityManager, limit = 100) {
  const rows = await sql<{
    id: string;
    costs: Partial<FeatureCosts>;
    effective_from: Date;
    created_at: Date;
    created_by_id: string | null;
    created_by_email: string | null;
    created_by_name: string | null;
    generations: string;
  }>(
    em,
    `select v.id, v.costs, v.effective_from, v.created_at, v.created_by_id, u.email as created_by_email,
            u.name as created_by_name,
            (select count(*) from generations g where g.price_version_id = v.id) as generations
       from feature_cost_versions v left join users u on u.id = v.created_by_id
      order by v.effective_from desc, v.created_at desc limit $1`,
    [limit],
  );
  const settings = await readSettings(em);
  return rows.map((row) => ({
    id: row.id,
    costs: { ...DEFAULT_FEATURE_COSTS, ...row.costs },
    effectiveFrom: new Date(row.effective_from),
    createdAt: new Date(row.created_at),
    createdBy: row.created_by_id
      ? { id: row.created_by_id, email: row.created_by_email ?? '', name: row.created_by_name ?? '' }
      : null,
    /** In force now / not yet in force / replaced. */
    state:
      row.id === settings.priceVersion?.id
        ? ('current' as const)
        : new Date(row.effective_from).getTime() > Date.now()
          ? ('scheduled' as const)
          : ('past' as const),
    /** Generations priced with it. */
    generations: Number(row.generations),
  }));
}

/** Tells every process the settings changed (call in the transaction that changes them). */
export async function settingsChanged(em: EntityManager): Promise<void> {
  await sql(em, 'select pg_notify($1, $2)', [CHANNEL, '']);
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

/** Writes the default settings row and the first version of the feature costs once; a no-op when they exist. */
export async function ensureSettings(em: EntityManager): Promise<void> {
  await sql(
    em,
    `insert into admin_settings (id, signup_bonus, signing_secret, created_at, updated_at)
     values (gen_random_uuid(), $1, $2, now(), now()) on conflict do nothing`,
    [DEFAULT_SIGNUP_BONUS, randomBytes(32).toString('hex')],
  );
  await sql(
    em,
    `insert into feature_cost_versions (id, costs, effective_from, created_by_id, created_at)
     select $1, $2::jsonb, now(), null, now() where not exists (select 1 from feature_cost_versions)`,
    [uuidv7(), JSON.stringify(DEFAULT_FEATURE_COSTS)],
  );
}

let signingSecret: Promise<string> | undefined;
/** The HMAC key for signed links; read once per process (it never changes). */
export function getSigningSecret(em: EntityManager): Promise<string> {
  // Out of any transaction on purpose: a process-lifetime read, cached for every later caller.
  signingSecret ??= sqlOutsideTransaction<{ signing_secret: string }>(
    em,
    'select signing_secret from admin_settings limit 1',
  )
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
