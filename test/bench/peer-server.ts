// The bench's peer: the same two procedures written the way a create-t3-app project writes them —
// tRPC (superjson) on Express through tRPC's own adapter, Drizzle over postgres.js (t3's driver),
// a context that looks the session up (hashed token joined to its user, as Auth.js's Drizzle
// adapter does), a `protectedProcedure`, and for generations.create one `db.transaction` doing the
// read-modify-write with `SELECT … FOR UPDATE` on the balance: the idempotency look-up, the feature
// costs in force (the latest version), the balance locked and its available part checked, the hold
// (`held` raised, the hold row), the generation, the expiring grants reserved soonest first (locked,
// then one update each), and pg-boss's `send` in the same transaction (`fromDrizzle`). Same schema, same rows written, same answers as Forgeline.
//
// Environment: DATABASE_URL, PORT, HOST (default 127.0.0.1), PGPOOL_MAX (default 10), AI_PROVIDER.
import { createHash } from 'node:crypto';
import { initTRPC, TRPCError } from '@trpc/server';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import { and, asc, desc, eq, gt, lte, sql } from 'drizzle-orm';
import { integer, jsonb, pgTable, text, timestamp, uuid, varchar } from 'drizzle-orm/pg-core';
import { drizzle } from 'drizzle-orm/postgres-js';
import express from 'express';
import { fromDrizzle, PgBoss } from 'pg-boss';
import postgres from 'postgres';
import superjson from 'superjson';
import { uuidv7 } from '../../server/common/ids.ts';
import { DEFAULT_FEATURE_COSTS } from '../../shared/defaults.ts';
import { SESSION_COOKIE } from '../../shared/errors.ts';
import { createGenerationInput, OPERATION_OF_KIND } from '../../shared/schemas/generations.ts';

// ——— the schema (the tables Forgeline's migrations made; only what these procedures touch) ———
const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const users = pgTable('users', {
  id: uuid('id').primaryKey(),
  email: varchar('email', { length: 254 }).notNull(),
  name: varchar('name', { length: 120 }).notNull(),
  role: text('role').notNull(),
  status: text('status').notNull(),
});
const sessions = pgTable('sessions', {
  id: varchar('id', { length: 64 }).primaryKey(),
  userId: uuid('user_id').notNull(),
  expiresAt: ts('expires_at').notNull(),
  createdAt: ts('created_at').notNull(),
});
const featureCostVersions = pgTable('feature_cost_versions', {
  id: uuid('id').primaryKey(),
  costs: jsonb('costs').$type<Record<string, number>>().notNull(),
  effectiveFrom: ts('effective_from').notNull(),
  createdAt: ts('created_at').notNull(),
});
const creditBalances = pgTable('credit_balances', {
  id: uuid('id').primaryKey(),
  userId: uuid('user_id').notNull(),
  balance: integer('balance').notNull(),
  held: integer('held').notNull(),
  totalPurchased: integer('total_purchased').notNull(),
  totalGranted: integer('total_granted').notNull(),
  totalUsed: integer('total_used').notNull(),
  totalRefunded: integer('total_refunded').notNull(),
  totalClawedBack: integer('total_clawed_back').notNull(),
  ledgerSeq: integer('ledger_seq').notNull(),
  lastTransactionAt: ts('last_transaction_at'),
  updatedAt: ts('updated_at').notNull(),
});
const creditTransactions = pgTable('credit_transactions', {
  id: uuid('id').primaryKey(),
  userId: uuid('user_id'),
  seq: integer('seq').notNull(),
  type: text('type').notNull(),
  amount: integer('amount').notNull(),
  balanceAfter: integer('balance_after').notNull(),
  description: text('description'),
  operationType: text('operation_type'),
  generationId: uuid('generation_id'),
  createdAt: ts('created_at').notNull(),
});
const creditHolds = pgTable('credit_holds', {
  id: uuid('id').primaryKey(),
  userId: uuid('user_id').notNull(),
  generationId: uuid('generation_id'),
  amount: integer('amount').notNull(),
  status: text('status').notNull(),
  apiKeyId: uuid('api_key_id'),
  createdAt: ts('created_at').notNull(),
});
const creditGrants = pgTable('credit_grants', {
  id: uuid('id').primaryKey(),
  userId: uuid('user_id').notNull(),
  remaining: integer('remaining').notNull(),
  expiresAt: ts('expires_at').notNull(),
  updatedAt: ts('updated_at').notNull(),
});
const creditGrantAllocations = pgTable('credit_grant_allocations', {
  id: uuid('id').primaryKey(),
  userId: uuid('user_id').notNull(),
  transactionId: uuid('transaction_id'),
  holdId: uuid('hold_id'),
  grantId: uuid('grant_id').notNull(),
  amount: integer('amount').notNull(),
  returned: integer('returned').notNull(),
  forfeited: integer('forfeited').notNull(),
  createdAt: ts('created_at').notNull(),
  updatedAt: ts('updated_at').notNull(),
});
const generations = pgTable('generations', {
  id: uuid('id').primaryKey(),
  userId: uuid('user_id'),
  organizationId: uuid('organization_id'),
  projectId: uuid('project_id'),
  kind: text('kind').notNull(),
  agentType: text('agent_type'),
  input: jsonb('input').$type<Record<string, unknown>>().notNull(),
  prompt: text('prompt'),
  provider: varchar('provider', { length: 32 }).notNull(),
  model: varchar('model', { length: 64 }),
  outputCount: integer('output_count').notNull(),
  creditsCharged: integer('credits_charged').notNull(),
  unitCost: integer('unit_cost'),
  priceVersionId: uuid('price_version_id'),
  status: text('status').notNull(),
  images: jsonb('images'),
  response: text('response'),
  error: text('error'),
  tokensUsed: integer('tokens_used'),
  durationMs: integer('duration_ms'),
  idempotencyKey: varchar('idempotency_key', { length: 200 }),
  attempts: integer('attempts').notNull(),
  startedAt: ts('started_at'),
  completedAt: ts('completed_at'),
  createdAt: ts('created_at').notNull(),
  updatedAt: ts('updated_at').notNull(),
});
const schema = {
  users,
  sessions,
  featureCostVersions,
  creditBalances,
  creditHolds,
  creditTransactions,
  creditGrants,
  generations,
};

// ——— server/db ———
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error('DATABASE_URL is required');
const conn = postgres(databaseUrl, { max: Number(process.env.PGPOOL_MAX ?? 10), onnotice: () => {} });
const db = drizzle(conn, { schema });
const boss = new PgBoss({
  connectionString: databaseUrl,
  max: 2,
  application_name: 'bench-peer-jobs',
  supervise: false,
  schedule: false,
  migrate: false,
});
boss.on('error', (error) => console.error('job queue error', error));
await boss.start();
const providerName = process.env.AI_PROVIDER ?? 'local';
const SESSION_ABSOLUTE_MS = 90 * 24 * 60 * 60 * 1000;

// ——— server/auth: the session behind the cookie (Auth.js's Drizzle adapter: session ⋈ user) ———
async function auth(cookieHeader: string | undefined) {
  const token = cookieHeader
    ?.split(';')
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${SESSION_COOKIE}=`))
    ?.slice(SESSION_COOKIE.length + 1);
  if (!token) return null;
  const [row] = await db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, createHash('sha256').update(decodeURIComponent(token)).digest('hex')));
  if (row?.user.status !== 'active') return null;
  const expires = Math.min(
    row.session.expiresAt.getTime(),
    row.session.createdAt.getTime() + SESSION_ABSOLUTE_MS,
  );
  if (expires <= Date.now()) return null;
  return { user: row.user, expires: new Date(expires) };
}

// ——— server/api/trpc ———
const createTRPCContext = async (opts: { req: express.Request }) => ({
  db,
  session: await auth(opts.req.headers.cookie),
});
const t = initTRPC.context<typeof createTRPCContext>().create({ transformer: superjson });
// t3's timingMiddleware, without its console.log of every call.
const timingMiddleware = t.middleware(async ({ next }) => {
  const result = await next();
  return result;
});
const protectedProcedure = t.procedure.use(timingMiddleware).use(({ ctx, next }) => {
  if (!ctx.session?.user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to continue' });
  return next({ ctx: { session: { ...ctx.session, user: ctx.session.user } } });
});

// ——— server/api/routers ———
const dto = (g: typeof generations.$inferSelect) => ({
  id: g.id,
  kind: g.kind,
  agentType: g.agentType,
  status: g.status,
  input: g.input,
  prompt: g.prompt,
  model: g.model,
  outputCount: g.outputCount,
  creditsCharged: g.creditsCharged,
  unitCost: g.unitCost,
  priceVersionId: g.priceVersionId,
  images: (g.images as unknown[] | null) ?? [],
  response: g.response,
  error: g.error,
  tokensUsed: g.tokensUsed,
  durationMs: g.durationMs,
  projectId: g.projectId,
  startedAt: g.startedAt,
  completedAt: g.completedAt,
  createdAt: g.createdAt,
});

const promptOf = (input: { appName: string; appFocus: string; color1: string; color2: string }) =>
  `A professional logo for "${input.appName}", an app about ${input.appFocus}, in ${input.color1} and ${input.color2}`;

const creditsRouter = t.router({
  balance: protectedProcedure.query(async ({ ctx }) => {
    const balance = await ctx.db.query.creditBalances.findFirst({
      where: eq(creditBalances.userId, ctx.session.user.id),
    });
    if (!balance) throw new TRPCError({ code: 'NOT_FOUND', message: 'This account has no credit balance' });
    return {
      balance: balance.balance,
      held: balance.held,
      available: balance.balance - balance.held,
      totalPurchased: balance.totalPurchased,
      totalGranted: balance.totalGranted,
      totalUsed: balance.totalUsed,
      totalRefunded: balance.totalRefunded,
      totalClawedBack: balance.totalClawedBack,
      lastTransactionAt: balance.lastTransactionAt,
    };
  }),
});

const generationsRouter = t.router({
  create: protectedProcedure.input(createGenerationInput).mutation(async ({ ctx, input }) => {
    if (input.kind !== 'logo')
      throw new TRPCError({ code: 'BAD_REQUEST', message: 'The peer makes logos only' });
    const userId = ctx.session.user.id;
    const key = input.idempotencyKey ?? null;
    try {
      return await ctx.db.transaction(async (tx) => {
        if (key) {
          const earlier = await tx.query.generations.findFirst({
            where: and(eq(generations.userId, userId), eq(generations.idempotencyKey, key)),
          });
          if (earlier) return dto(earlier);
        }
        const version = await tx.query.featureCostVersions.findFirst({
          where: lte(featureCostVersions.effectiveFrom, sql`now()`),
          orderBy: [desc(featureCostVersions.effectiveFrom), desc(featureCostVersions.createdAt)],
        });
        const costs = { ...DEFAULT_FEATURE_COSTS, ...version?.costs } as Record<string, number>;
        const unitCost = costs[OPERATION_OF_KIND[input.kind]] ?? 0;
        const cost = unitCost * input.outputCount;
        const [balance] = await tx
          .select()
          .from(creditBalances)
          .where(eq(creditBalances.userId, userId))
          .for('update');
        if (!balance || balance.balance - balance.held < cost) {
          throw new TRPCError({ code: 'PAYMENT_REQUIRED', message: 'Not enough credits for this operation' });
        }
        const now = new Date();
        await tx
          .update(creditBalances)
          .set({ held: balance.held + cost, updatedAt: now })
          .where(eq(creditBalances.id, balance.id));
        const [generation] = await tx
          .insert(generations)
          .values({
            id: uuidv7(),
            userId,
            kind: input.kind,
            input: input.input,
            prompt: promptOf(input.input),
            provider: providerName,
            model: input.model ?? null,
            outputCount: input.outputCount,
            creditsCharged: cost,
            unitCost,
            priceVersionId: version?.id ?? null,
            status: 'queued',
            idempotencyKey: key,
            attempts: 0,
            createdAt: now,
            updatedAt: now,
          })
          .returning();
        if (!generation) throw new Error('no generation');
        const holdId = uuidv7();
        // A free generation holds nothing (the bench's costs are never 0).
        if (cost > 0)
          await tx.insert(creditHolds).values({
            id: holdId,
            userId,
            generationId: generation.id,
            amount: cost,
            status: 'open',
            apiKeyId: null,
            createdAt: now,
          });
        // Expiring credits first, soonest first; what each gave is recorded for the capture or release.
        const grants = await tx
          .select()
          .from(creditGrants)
          .where(and(eq(creditGrants.userId, userId), gt(creditGrants.remaining, 0)))
          .orderBy(asc(creditGrants.expiresAt), asc(creditGrants.id))
          .for('update');
        let left = cost;
        for (const grant of grants) {
          if (left <= 0) break;
          const used = Math.min(grant.remaining, left);
          left -= used;
          await tx
            .update(creditGrants)
            .set({ remaining: grant.remaining - used, updatedAt: now })
            .where(eq(creditGrants.id, grant.id));
          await tx.insert(creditGrantAllocations).values({
            id: uuidv7(),
            userId,
            transactionId: null,
            holdId,
            grantId: grant.id,
            amount: used,
            returned: 0,
            forfeited: 0,
            createdAt: now,
            updatedAt: now,
          });
        }
        await boss.send('generation-run', { generationId: generation.id }, { db: fromDrizzle(tx, sql) });
        return dto(generation);
      });
    } catch (error) {
      // A twin request with the same key committed first: return its generation.
      if (key && (error as { code?: string }).code === '23505') {
        const earlier = await ctx.db.query.generations.findFirst({
          where: and(eq(generations.userId, userId), eq(generations.idempotencyKey, key)),
        });
        if (earlier) return dto(earlier);
      }
      throw error;
    }
  }),
});

const appRouter = t.router({ credits: creditsRouter, generations: generationsRouter });

// ——— the HTTP server ———
const app = express();
app.disable('x-powered-by');
app.get('/ready', async (_req, res) => {
  await conn`select 1`;
  res.json({ ok: true });
});
app.use('/trpc', createExpressMiddleware({ router: appRouter, createContext: createTRPCContext }));
const server = app.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');
server.keepAliveTimeout = 65_000;

const shutdown = () => {
  server.close();
  server.closeAllConnections();
  void Promise.allSettled([boss.stop({ graceful: false, close: true }), conn.end()]).finally(() =>
    process.exit(0),
  );
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
