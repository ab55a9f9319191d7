// The bench's "practical limit": a bare node:http + pg server that answers the same procedures with
// the same SQL work as Forgeline (session lookup by SHA-256 hash joined to its user, expiry and
// status checks, then the procedure's own statements, in the same order and transaction) and the
// same tRPC + superjson response shape, with nothing else in between: no framework, no ORM, no
// middleware, no schema library. generations.create sends Forgeline's own statement (imported from
// generations.service.ts — the hold, the generation and its job —, so it cannot drift; importing it loads the ORM's modules, but nothing of
// the ORM runs on a request), prepared as Forgeline prepares it — the job's insert is part of it —
// and wakes the job workers after commit as Forgeline does.
// It LISTENs on the same channels as a Forgeline API process, so each server hears the other's
// notifications.
//
// Environment: DATABASE_URL, PORT, HOST (default 127.0.0.1), PGPOOL_MAX (default 10),
// AI_PROVIDER (default local: the provider name written on new generations, as in Forgeline).
// Routes: GET /ready, and one handler per workload in `routes` below (see workloads.ts).
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { createLogger } from '../../server/common/logger.ts';
import { BALANCE_SQL } from '../../server/modules/credits/credits.service.ts';
import { startGenerationEvents } from '../../server/modules/generations/generation-events.ts';
import {
  type GenerationDto,
  type GenerationRow,
  generationDtoOf,
} from '../../server/modules/generations/generations.dto.ts';
import {
  type CreateRow,
  createGenerationStatement,
  KEYED_GENERATION_SQL,
  type Price,
} from '../../server/modules/generations/generations.service.ts';
import { coalescedWakes, QUEUES } from '../../server/modules/jobs/queue.ts';
import { DEFAULT_FEATURE_COSTS } from '../../shared/defaults.ts';
import { SESSION_COOKIE } from '../../shared/errors.ts';

/** server/modules/identity/lucia.ts's absolute session cap (not imported: it pulls in the ORM). */
const SESSION_ABSOLUTE_MS = 90 * 24 * 60 * 60 * 1000;
const MAX_BODY_BYTES = 1024 * 1024;

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error('DATABASE_URL is required');
  process.exit(1);
}
const providerName = process.env.AI_PROVIDER ?? 'local';
const logger = createLogger('warn');
const pool = new pg.Pool({
  connectionString: databaseUrl,
  max: Number(process.env.PGPOOL_MAX ?? 10),
  idleTimeoutMillis: 30_000,
});
pool.on('error', (error) => logger.warn({ err: error }, 'idle database connection lost'));

// What a Forgeline API process runs beside its pool: pg-boss (here only to send the workers'
// wake-up after commit: no supervision, no schedules) and the generation-events listener.
const boss = new PgBoss({
  connectionString: databaseUrl,
  max: 2,
  application_name: 'bench-baseline-jobs',
  useListenNotify: true,
  supervise: false,
  schedule: false,
  migrate: false,
});
boss.on('error', (error) => logger.error({ err: error }, 'job queue error'));
await boss.start();
const events = await startGenerationEvents({ url: databaseUrl, logger });
const wakes = coalescedWakes(boss, logger);

// The admin settings, kept in memory and read again when a change is announced (as Forgeline's
// settings.service.ts does).
// The price in force: the latest feature-cost version effective now (settings.service.ts keeps the
// scheduled ones too and picks per request; the bench never schedules one).
const readFeatureCosts = async (): Promise<Price & { costs: Record<string, number> }> => {
  const { rows } = await pool.query<{ id: string; costs: Record<string, number> | null }>(
    `select id, costs from feature_cost_versions where effective_from <= now()
      order by effective_from desc, created_at desc limit 1`,
  );
  const costs = { ...DEFAULT_FEATURE_COSTS, ...rows[0]?.costs } as Record<string, number>;
  return { versionId: rows[0]?.id ?? null, unitCost: costs.logo_generation ?? 0, costs };
};
let featureCostsCache = readFeatureCosts();
const settingsListener = new pg.Client({ connectionString: databaseUrl, application_name: 'bench-settings' });
settingsListener.on('notification', () => {
  featureCostsCache = readFeatureCosts();
});
settingsListener.on('error', (error) => logger.warn({ err: error }, 'settings listener lost'));
await settingsListener.connect();
await settingsListener.query('listen forgeline_settings');

type Caller = { id: string; email: string; name: string; role: string };

// Same rows as the Lucia adapter's `findOne(Session, { id: hash }, { populate: ['user'] })`, but
// only the columns this handler needs.
const SESSION_SQL = `
select u.id, u.email, u.name, u.role, u.status, s.expires_at, s.created_at
  from sessions s join users u on u.id = s.user_id
 where s.id = $1`;

const COOKIE_PREFIX = `${SESSION_COOKIE}=`;

function sessionIdFrom(req: IncomingMessage): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const trimmed = part.trim();
    if (trimmed.startsWith(COOKIE_PREFIX)) return decodeURIComponent(trimmed.slice(COOKIE_PREFIX.length));
  }
  return null;
}

async function authenticate(req: IncomingMessage): Promise<Caller | null> {
  const sessionId = sessionIdFrom(req);
  if (!sessionId) return null;
  const hash = createHash('sha256').update(sessionId).digest('hex');
  const { rows } = await pool.query({ name: 'session', text: SESSION_SQL, values: [hash] });
  const row = rows[0];
  if (row?.status !== 'active') return null;
  const expiresAt = Math.min(
    (row.expires_at as Date).getTime(),
    (row.created_at as Date).getTime() + SESSION_ABSOLUTE_MS,
  );
  if (expiresAt <= Date.now()) return null;
  return { id: row.id, email: row.email, name: row.name, role: row.role };
}

function send(res: ServerResponse, status: number, body: string) {
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** A tRPC (superjson transformer) success envelope; `dates` lists the Date-valued keys. */
function trpcResult(json: Record<string, unknown>, dates: string[]): string {
  const values: Record<string, ['Date']> = {};
  for (const key of dates) if (json[key] instanceof Date) values[key] = ['Date'];
  const data = Object.keys(values).length ? { json, meta: { values, v: 1 } } : { json };
  return JSON.stringify({ result: { data } });
}

const JSON_RPC_CODE: Record<number, number> = {
  400: -32600,
  401: -32001,
  402: -32002,
  403: -32003,
  404: -32004,
};

function trpcError(path: string, status: number, code: string, message: string): string {
  return JSON.stringify({
    error: {
      json: { message, code: JSON_RPC_CODE[status] ?? -32603, data: { code, httpStatus: status, path } },
    },
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.once('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

type LogoCommand = {
  kind: 'logo';
  input: { appName: string; appFocus: string; color1: string; color2: string };
  outputCount: number;
  idempotencyKey?: string;
};

const HEX_COLOR = /^#(?:[0-9a-fA-F]{3}){1,2}$/;
const text = (value: unknown, min: number, max: number) =>
  typeof value === 'string' && value.trim().length >= min && value.trim().length <= max ? value.trim() : null;
const color = (value: unknown) => {
  const trimmed = text(value, 4, 7);
  return trimmed && HEX_COLOR.test(trimmed) ? trimmed.toLowerCase() : null;
};

/** The hand-written equivalent of shared/schemas/generations.ts's logo branch (the bench's input). */
function parseLogoCommand(raw: string): LogoCommand | null {
  let body: { json?: Record<string, unknown> };
  try {
    body = JSON.parse(raw);
  } catch {
    return null;
  }
  const json = body?.json;
  const input = json?.input as Record<string, unknown> | undefined;
  if (json?.kind !== 'logo' || !input) return null;
  const appName = text(input.appName, 1, 60);
  const appFocus = text(input.appFocus, 2, 200);
  const color1 = color(input.color1);
  const color2 = color(input.color2);
  const outputCount = json.outputCount ?? 1;
  const key = json.idempotencyKey;
  if (!appName || !appFocus || !color1 || !color2) return null;
  if (typeof outputCount !== 'number' || !Number.isInteger(outputCount) || outputCount < 1 || outputCount > 8)
    return null;
  if (key !== undefined && (typeof key !== 'string' || key.length < 8 || key.length > 200)) return null;
  return {
    kind: 'logo',
    input: { appName, appFocus, color1, color2 },
    outputCount,
    ...(key === undefined ? {} : { idempotencyKey: key }),
  };
}

const GENERATION_DATES = ['startedAt', 'completedAt', 'createdAt'];

class InsufficientCredits extends Error {}

// Forgeline's prepared statement names are its own; these are the baseline's (same texts).
const statementNames = new Map<string, string>();
const named = (text: string, values: unknown[]) => {
  let name = statementNames.get(text);
  if (!name) {
    name = `baseline_${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  return { name, text, values };
};

/** Charge + record + enqueue in one transaction; the earlier generation when the key was used. */
async function createGeneration(userId: string, command: LogoCommand): Promise<GenerationDto> {
  // Settings: kept in memory (Forgeline caches them per process, dropped on NOTIFY).
  const { versionId, unitCost } = await featureCostsCache;
  const statement = createGenerationStatement(userId, command, { versionId, unitCost }, providerName);
  const client = await pool.connect();
  let open = false;
  try {
    await client.query('begin');
    open = true;
    const { rows } = await client.query<CreateRow>(named(statement.text, statement.values));
    const result = rows[0];
    if (!result?.created) {
      let earlier = result?.earlier ?? null;
      if (!earlier) {
        const twin = await client.query<GenerationRow>(
          named(KEYED_GENERATION_SQL, [userId, command.idempotencyKey]),
        );
        earlier = twin.rows[0] ?? null;
      }
      await client.query('commit');
      open = false;
      if (!earlier) throw new Error('idempotency key in use by another request');
      return generationDtoOf(earlier);
    }
    if (!result.funded) throw new InsufficientCredits();
    await client.query('commit');
    open = false;
    wakes.wake(QUEUES.generationRun);
    return statement.generation;
  } finally {
    if (open) await client.query('rollback').catch(() => {});
    client.release();
  }
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

// One handler per workload, keyed `METHOD /path`.
const routes: Record<string, Handler> = {
  async 'GET /trpc/credits.balance'(req, res) {
    const caller = await authenticate(req);
    if (!caller) {
      send(res, 401, trpcError('credits.balance', 401, 'UNAUTHORIZED', 'Sign in to continue'));
      return;
    }
    const { rows } = await pool.query({ name: 'balance', text: BALANCE_SQL, values: [caller.id] });
    const row = rows[0];
    if (!row) {
      send(res, 404, trpcError('credits.balance', 404, 'NOT_FOUND', 'This account has no credit balance'));
      return;
    }
    const json = {
      balance: row.balance,
      held: row.held,
      available: row.balance - row.held,
      totalPurchased: row.total_purchased,
      totalGranted: row.total_granted,
      totalUsed: row.total_used,
      totalRefunded: row.total_refunded,
      totalClawedBack: row.total_clawed_back,
      lastTransactionAt: row.last_transaction_at ?? null,
    };
    send(res, 200, trpcResult(json, ['lastTransactionAt']));
  },

  async 'POST /trpc/generations.create'(req, res) {
    const path = 'generations.create';
    if (req.headers['content-type']?.split(';')[0]?.trim().toLowerCase() !== 'application/json') {
      send(res, 415, '{"error":"tRPC mutations must be sent as application/json"}');
      return;
    }
    const raw = await readBody(req);
    const caller = await authenticate(req);
    if (!caller) {
      send(res, 401, trpcError(path, 401, 'UNAUTHORIZED', 'Sign in to continue'));
      return;
    }
    if (req.headers['x-csrf-protection'] !== '1') {
      send(res, 403, trpcError(path, 403, 'FORBIDDEN', 'Missing the x-csrf-protection header'));
      return;
    }
    const command = parseLogoCommand(raw);
    if (!command) {
      send(res, 400, trpcError(path, 400, 'BAD_REQUEST', 'Invalid input'));
      return;
    }
    try {
      const row = await createGeneration(caller.id, command);
      send(res, 200, trpcResult(row, GENERATION_DATES));
    } catch (error) {
      if (!(error instanceof InsufficientCredits)) throw error;
      send(res, 402, trpcError(path, 402, 'PAYMENT_REQUIRED', 'Not enough credits for this operation'));
    }
  },

  async 'GET /ready'(_req, res) {
    await pool.query('select 1');
    send(res, 200, '{"ok":true}');
  },
};

const server = createServer((req, res) => {
  const queryAt = req.url?.indexOf('?') ?? -1;
  const path = queryAt >= 0 ? req.url?.slice(0, queryAt) : req.url;
  const handler = routes[`${req.method} ${path}`];
  if (!handler) {
    send(res, 404, '{"error":"Not found"}');
    return;
  }
  handler(req, res).catch((error: unknown) => {
    logger.error({ err: error }, 'request failed');
    if (!res.headersSent) send(res, 500, '{"error":"Internal error"}');
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');

let stopping = false;
const shutdown = () => {
  if (stopping) return;
  stopping = true;
  server.close();
  server.closeAllConnections();
  wakes.cancel();
  void Promise.allSettled([
    boss.stop({ graceful: false, close: true }),
    events.close(),
    settingsListener.end(),
    pool.end(),
  ]).finally(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
