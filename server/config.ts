// The environment, parsed once with zod into a typed, frozen object. A bad value stops start
// with a message naming the variable.
import { isIP } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .optional()
    .transform((v) => (v === undefined ? fallback : ['true', '1', 'yes'].includes(v)));
const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);

const PROXY_PRESETS = ['loopback', 'linklocal', 'uniquelocal'];
/** One entry of Express's `trust proxy` list: a preset, an address, or a subnet (CIDR or netmask). */
const isProxyEntry = (entry: string) => {
  if (PROXY_PRESETS.includes(entry)) return true;
  const [address = '', range, ...extra] = entry.split('/');
  const family = isIP(address);
  if (!family || extra.length) return false;
  if (range === undefined) return true;
  if (/^\d+$/.test(range)) return Number(range) <= (family === 4 ? 32 : 128);
  return family === 4 && isIP(range) === 4;
};
/**
 * Express's `trust proxy` syntax: `true`/`false`, a hop count, or a comma-separated list of
 * presets, addresses and subnets. Default: loopback only (a proxy on this machine).
 */
const trustProxy = z
  .string()
  .default('loopback')
  .transform((value, ctx) => {
    const text = value.trim();
    if (text === 'true' || text === 'false') return text === 'true';
    if (/^\d+$/.test(text)) return Number(text);
    const entries = text.split(',').map((entry) => entry.trim());
    const bad = entries.filter((entry) => !isProxyEntry(entry));
    if (bad.length) {
      ctx.addIssue({
        code: 'custom',
        message: `not Express trust-proxy syntax: ${bad.join(', ')} (use true, false, a hop count, or addresses, subnets and loopback/linklocal/uniquelocal)`,
      });
      return z.NEVER;
    }
    return entries.join(', ');
  });

const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    DATABASE_SSL: bool(false),
    /** Read replicas (comma-separated URLs) for the reads that choose them: admin stats and lists. */
    DATABASE_REPLICA_URLS: z
      .string()
      .optional()
      .transform((value) =>
        (value ?? '')
          .split(',')
          .map((url) => url.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.url({ protocol: /^postgres(ql)?$/, error: 'each must be a postgres:// URL' }))),
    PGPOOL_MAX: int(50, 1),
    PGPOOL_IDLE_MS: int(30_000),
    PGPOOL_CONN_TIMEOUT_MS: int(5_000),
    PORT: int(3000).pipe(z.number().max(65_535)),
    HOST: z.string().default('0.0.0.0'),
    PUBLIC_URL: z.url().optional(),
    TRUST_PROXY: trustProxy,
    SESSION_COOKIE_SECURE: z.enum(['true', 'false', 'auto']).default('auto'),
    GENERATION_RETENTION_DAYS: int(365, 1),
    SLOW_QUERY_MS: int(500),
    POOL_WAIT_MS: int(100),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    RUN_WORKER: bool(true),
    AI_PROVIDER: z.enum(['local', 'replicate']).default('local'),
    AI_PROVIDER_URL: z.url().optional(),
    AI_PROVIDER_TOKEN: z.string().optional(),
    /** How long a prediction normally takes; past it, a generation whose callback never came is reconciled. */
    AI_PROVIDER_EXPECTED_SECONDS: int(300, 1),
    STORAGE_DRIVER: z.enum(['local', 's3']).default('local'),
    S3_BUCKET: z.string().optional(),
    S3_REGION: z.string().default('us-east-1'),
    S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
    S3_ACCESS_KEY_ID: z.string().optional(),
    S3_SECRET_ACCESS_KEY: z.string().optional(),
    S3_FORCE_PATH_STYLE: bool(false),
    S3_DOWNLOAD_REDIRECT: bool(true),
    /** Bearer token that opens GET /metrics; unset = no /metrics. */
    METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    STRIPE_SECRET_KEY: z.string().optional(),
    STRIPE_WEBHOOK_SECRET: z.string().optional(),
    STRIPE_API_BASE: z.url().optional(),
    POLAR_WEBHOOK_SECRET: z.string().optional(),
    /** Polar's organization access token: the API client (billing/polar-client.ts) exists only with it. */
    POLAR_ACCESS_TOKEN: z.string().optional(),
    /** Polar's API (tests point it at a loopback server; https://sandbox-api.polar.sh for the sandbox). */
    POLAR_API_BASE: z.url().default('https://api.polar.sh'),
    /** The local dev checkout: unset = on only outside production with no payment provider. */
    DEV_CHECKOUT: z.enum(['true', 'false', '1', '0', 'yes', 'no']).optional(),
    MAIL_DRIVER: z.enum(['log', 'smtp']).default('log'),
    MAIL_FROM: z.string().default('Forgeline <no-reply@localhost>'),
    SMTP_HOST: z.string().optional(),
    SMTP_PORT: int(587, 1).pipe(z.number().max(65_535)),
    SMTP_SECURE: bool(false),
    SMTP_USER: z.string().optional(),
    SMTP_PASSWORD: z.string().optional(),
    // OAuth sign-in: a provider is on when both its client id and secret are set. The endpoint
    // overrides point a provider at another host (tests use loopback servers).
    GITHUB_CLIENT_ID: z.string().optional(),
    GITHUB_CLIENT_SECRET: z.string().optional(),
    GITHUB_OAUTH_BASE: z.url().default('https://github.com'),
    GITHUB_API_BASE: z.url().default('https://api.github.com'),
    GOOGLE_CLIENT_ID: z.string().optional(),
    GOOGLE_CLIENT_SECRET: z.string().optional(),
    /** The OpenID issuer; its discovery document names the endpoints and keys. */
    GOOGLE_ISSUER: z.url().default('https://accounts.google.com'),
    /** Where embedded PostgreSQL keeps its cluster and files live (default `.data/`). */
    DATA_DIR: z.string().default('.data'),
    /** Base backups, the WAL archive (embedded) or dumps (DATABASE_URL). Default `$DATA_DIR/backups`. */
    BACKUP_DIR: z.string().optional(),
    /** How many scheduled backups to keep; 0 turns the daily backup job off. */
    BACKUP_KEEP: int(7),
    /** How many times in a row the embedded PostgreSQL is restarted after it dies before giving up. */
    EMBEDDED_PG_RESTARTS: int(5),
    /** Names this process in responses (`X-Forgeline-Instance`) and job results; set by `npm run cluster`. */
    INSTANCE_NAME: z.string().max(64).optional(),
  })
  .superRefine((env, ctx) => {
    if (env.AI_PROVIDER === 'replicate' && !env.AI_PROVIDER_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['AI_PROVIDER_URL'],
        message: 'required when AI_PROVIDER=replicate',
      });
    }
    if (env.STORAGE_DRIVER === 's3' && !env.S3_BUCKET) {
      ctx.addIssue({ code: 'custom', path: ['S3_BUCKET'], message: 'required when STORAGE_DRIVER=s3' });
    }
    if (Boolean(env.S3_ACCESS_KEY_ID) !== Boolean(env.S3_SECRET_ACCESS_KEY)) {
      const missing = env.S3_ACCESS_KEY_ID ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'set both S3 keys, or neither' });
    }
    if (
      env.NODE_ENV === 'production' &&
      env.DEV_CHECKOUT &&
      ['true', '1', 'yes'].includes(env.DEV_CHECKOUT)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['DEV_CHECKOUT'],
        message:
          'refused with NODE_ENV=production: the dev checkout credits purchases without taking any money. ' +
          'Unset it and configure Stripe (STRIPE_SECRET_KEY) or Polar (POLAR_ACCESS_TOKEN)',
      });
    }
    if (env.MAIL_DRIVER === 'smtp' && !env.SMTP_HOST) {
      ctx.addIssue({ code: 'custom', path: ['SMTP_HOST'], message: 'required when MAIL_DRIVER=smtp' });
    }
    for (const [id, secret] of [
      ['GITHUB_CLIENT_ID', 'GITHUB_CLIENT_SECRET'],
      ['GOOGLE_CLIENT_ID', 'GOOGLE_CLIENT_SECRET'],
    ] as const) {
      if (Boolean(env[id]) !== Boolean(env[secret])) {
        const missing = env[id] ? secret : id;
        ctx.addIssue({
          code: 'custom',
          path: [missing],
          message: `set both ${id} and ${secret}, or neither`,
        });
      }
    }
  });

export type Config = Readonly<ReturnType<typeof toConfig>>;

function toConfig(env: z.output<typeof envSchema>) {
  const publicUrl = env.PUBLIC_URL ?? `http://localhost:${env.PORT}`;
  return {
    env: env.NODE_ENV,
    isProduction: env.NODE_ENV === 'production',
    databaseUrl: env.DATABASE_URL,
    databaseSsl: env.DATABASE_SSL,
    databaseReplicaUrls: env.DATABASE_REPLICA_URLS,
    pool: {
      max: env.PGPOOL_MAX,
      idleMs: env.PGPOOL_IDLE_MS,
      connectionTimeoutMs: env.PGPOOL_CONN_TIMEOUT_MS,
    },
    port: env.PORT,
    host: env.HOST,
    publicUrl,
    /** Which peers may set the client address with X-Forwarded-For (Express's `trust proxy`). */
    trustProxy: env.TRUST_PROXY,
    sessionCookieSecure:
      env.SESSION_COOKIE_SECURE === 'auto'
        ? publicUrl.startsWith('https:')
        : env.SESSION_COOKIE_SECURE === 'true',
    generationRetentionDays: env.GENERATION_RETENTION_DAYS,
    slowQueryMs: env.SLOW_QUERY_MS,
    poolWaitMs: env.POOL_WAIT_MS,
    logLevel: env.LOG_LEVEL,
    runWorker: env.RUN_WORKER,
    aiProvider: {
      name: env.AI_PROVIDER,
      url: env.AI_PROVIDER_URL,
      token: env.AI_PROVIDER_TOKEN,
      expectedSeconds: env.AI_PROVIDER_EXPECTED_SECONDS,
    },
    storage: {
      driver: env.STORAGE_DRIVER,
      s3: env.S3_BUCKET
        ? {
            bucket: env.S3_BUCKET,
            region: env.S3_REGION,
            endpoint: env.S3_ENDPOINT,
            credentials:
              env.S3_ACCESS_KEY_ID && env.S3_SECRET_ACCESS_KEY
                ? { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY }
                : undefined,
            forcePathStyle: env.S3_FORCE_PATH_STYLE,
          }
        : null,
      /** GET /files/:id?download=1 redirects to a presigned S3 URL (the browser must reach S3_ENDPOINT). */
      downloadRedirect: env.S3_DOWNLOAD_REDIRECT,
    },
    metricsToken: env.METRICS_TOKEN ?? null,
    stripe: {
      secretKey: env.STRIPE_SECRET_KEY,
      webhookSecret: env.STRIPE_WEBHOOK_SECRET,
      apiBase: env.STRIPE_API_BASE,
    },
    polar: {
      webhookSecret: env.POLAR_WEBHOOK_SECRET,
      accessToken: env.POLAR_ACCESS_TOKEN,
      apiBase: env.POLAR_API_BASE,
    },
    /**
     * Whether the local dev checkout sells (and the server signs its own Stripe events): never in
     * production; DEV_CHECKOUT=true/false decides elsewhere; unset, only with no payment provider
     * (neither STRIPE_SECRET_KEY nor POLAR_ACCESS_TOKEN) configured.
     */
    devCheckout:
      env.NODE_ENV !== 'production' &&
      (env.DEV_CHECKOUT
        ? ['true', '1', 'yes'].includes(env.DEV_CHECKOUT)
        : !env.STRIPE_SECRET_KEY && !env.POLAR_ACCESS_TOKEN),
    mail: {
      driver: env.MAIL_DRIVER,
      from: env.MAIL_FROM,
      smtp: {
        host: env.SMTP_HOST,
        port: env.SMTP_PORT,
        secure: env.SMTP_SECURE,
        user: env.SMTP_USER,
        password: env.SMTP_PASSWORD,
      },
    },
    oauth: {
      github:
        env.GITHUB_CLIENT_ID && env.GITHUB_CLIENT_SECRET
          ? {
              clientId: env.GITHUB_CLIENT_ID,
              clientSecret: env.GITHUB_CLIENT_SECRET,
              oauthBase: env.GITHUB_OAUTH_BASE.replace(/\/+$/, ''),
              apiBase: env.GITHUB_API_BASE.replace(/\/+$/, ''),
            }
          : null,
      google:
        env.GOOGLE_CLIENT_ID && env.GOOGLE_CLIENT_SECRET
          ? {
              clientId: env.GOOGLE_CLIENT_ID,
              clientSecret: env.GOOGLE_CLIENT_SECRET,
              issuer: env.GOOGLE_ISSUER,
            }
          : null,
    },
    dataDir: env.DATA_DIR,
    backup: { dir: env.BACKUP_DIR ?? join(env.DATA_DIR, 'backups'), keep: env.BACKUP_KEEP },
    embeddedRestarts: env.EMBEDDED_PG_RESTARTS,
    instanceName: env.INSTANCE_NAME ?? null,
  };
}

export class ConfigError extends Error {}

/** Parses an environment (default: process.env). Throws ConfigError listing every bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // `FOO=` (as .env files and CI templates often leave it) means unset, not an invalid value.
  const present = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid environment:\n${lines.join('\n')}`);
  }
  return Object.freeze(toConfig(parsed.data));
}
