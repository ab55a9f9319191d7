// The database connection's machinery below the ORM, in one place:
//
// - `sql(em, text, params)`: THE way to send raw SQL in a unit of work — a parameterised statement
//   on the EntityManager's connection (its transaction when one is open). MikroORM's `em.execute`
//   inlines every parameter into the SQL text (so PostgreSQL parses and plans each statement
//   afresh) and adds its own bookkeeping; this sends the parameters separately, and a text
//   registered with `prepared()` is a named prepared statement, parsed once per connection.
// - `sqlOutsideTransaction(em, …)`: the deliberate out-of-transaction pool statements (rate limits,
//   the mail loop, the session check, metrics, probes), named so a grep tells them from mistakes;
//   `sqlOnReplica(em, …)`: the heavy admin reads a read replica may serve.
//   Which runs where, and why: docs/decisions/0007-raw-sql.md.
// - the pool's instrumentation: the slow-query log times the query alone, from the moment it is
//   sent on its connection; the wait for a free connection is timed apart and logged when it passes
//   its own threshold (at most one line a second, with how many waits it covers).
// - a diagnostics channel carrying every statement sent, which tests subscribe to (to count a
//   procedure's statements); publishing costs nothing while no one listens.
import { channel } from 'node:diagnostics_channel';
import type { EntityManager } from '@mikro-orm/postgresql';
import { CompiledQuery } from 'kysely';
import pg from 'pg';

/** Texts registered by `prepared()`, with the name each is prepared under on every connection. */
const preparedNames = new Map<string, string>();

/**
 * Marks a statement as hot: every connection prepares it once (a named statement) and executes it
 * by name afterwards, skipping PostgreSQL's parse and plan. Only for fixed texts (module constants):
 * each one costs a little memory on every server connection.
 */
export function prepared(text: string): string {
  if (!preparedNames.has(text)) preparedNames.set(text, `fl_${preparedNames.size + 1}`);
  return text;
}

/** Every statement sent on a pooled connection: `{ text, values }`. Tests count them here. */
export const statementChannel = channel('forgeline:statement');

export type StatementTiming = { query: string; took: number };

/** The pool's options, as pg-pool hands them to each client it opens. */
export type InstrumentedClientConfig = pg.ClientConfig & {
  onStatementTimed?: ((timing: StatementTiming) => void) | null;
};

/** What a `begin`, `commit` or `rollback` that was never sent answers (as pg would, to Kysely). */
const unsent = (command: string): pg.QueryResult => ({
  command,
  rowCount: null,
  oid: 0,
  rows: [],
  fields: [],
});

/**
 * The client class of the ORM's pool: times each statement from the moment it is handed to its
 * connection to its result (the pool wait is not in it), sends registered texts as named prepared
 * statements, and sends a transaction's `begin` with its first statement, in one socket write
 * (docs/decisions/0009): `begin` is answered at once and held back; the next statement on the
 * connection goes out pipelined behind it (pg's pipeline mode: both on the wire before either
 * answers), and a `commit` or `rollback` of a transaction that sent nothing sends nothing.
 */
export class InstrumentedClient extends pg.Client {
  readonly #onTimed: ((timing: StatementTiming) => void) | null;
  /** A `begin` answered but not sent yet. */
  #beginHeld = false;
  constructor(config?: InstrumentedClientConfig) {
    super(config);
    // Pipeline mode (`pipeline: true` in the pool's options) sends a query at once even while
    // another is on the wire. Only the held `begin` ever has company: Kysely and MikroORM await
    // each statement, and a client belongs to one transaction (or one statement) at a time.
    if (!this.pipeline) throw new Error('InstrumentedClient needs `pipeline: true` in its pool options');
    this.#onTimed = config?.onStatementTimed ?? null;
  }

  /** Called when the pool takes the client back: a held `begin` never sent leaves nothing open. */
  dropHeldBegin(): void {
    this.#beginHeld = false;
  }

  // biome-ignore lint/suspicious/noExplicitAny: pg's query() is a set of overloads; we pass them through.
  override query(...args: any[]): any {
    const [text, values] = args;
    // Cursors, callbacks and config objects pass through untouched (after a held `begin`).
    if (typeof text !== 'string' || args.length > 2 || typeof values === 'function') {
      if (this.#beginHeld) {
        this.#beginHeld = false;
        this.#send('begin', undefined).catch(() => {}); // its failure fails what follows too
      }
      // biome-ignore lint/suspicious/noExplicitAny: see above.
      return (super.query as any)(...args);
    }
    if (text === 'begin' && !values?.length) {
      // Held until the transaction's first statement (a second `begin` is a no-op in PostgreSQL too).
      this.#beginHeld = true;
      return Promise.resolve(unsent('BEGIN'));
    }
    if (!this.#beginHeld) return this.#send(text, values);
    this.#beginHeld = false;
    // A transaction that sent nothing: nothing to commit or roll back.
    if (text === 'commit' && !values?.length) return Promise.resolve(unsent('COMMIT'));
    if (text === 'rollback' && !values?.length) return Promise.resolve(unsent('ROLLBACK'));
    // `begin` and the statement in one write. `begin` cannot fail on its own (PostgreSQL only
    // warns about a transaction already open; a broken connection fails both): its error, if any,
    // is the statement's.
    const stream = (this as unknown as { connection: { stream: import('node:stream').Writable } }).connection
      .stream;
    stream.cork();
    let begun: Promise<pg.QueryResult>;
    let result: Promise<pg.QueryResult>;
    try {
      begun = this.#send('begin', undefined);
      result = this.#send(text, values);
    } finally {
      stream.uncork();
    }
    return begun.then(
      () => result,
      (error: unknown) => {
        result.catch(() => {});
        throw error;
      },
    );
  }

  #send(text: string, values: unknown[] | undefined): Promise<pg.QueryResult> {
    if (statementChannel.hasSubscribers) statementChannel.publish({ text, values });
    const name = values?.length ? preparedNames.get(text) : undefined;
    const started = performance.now();
    const result: Promise<pg.QueryResult> = name
      ? super.query({ name, text, values })
      : super.query(text, values);
    const sink = this.#onTimed;
    if (!sink) return result;
    return result.then(
      (value) => {
        sink({ query: text, took: performance.now() - started });
        return value;
      },
      (error: unknown) => {
        sink({ query: text, took: performance.now() - started });
        throw error;
      },
    );
  }
}

/** Every pool of InstrumentedClients calls this once: a client goes back to it without a held `begin`. */
export function dropHeldBeginOnRelease(pool: pg.Pool): void {
  pool.on('release', (_error: unknown, client: pg.PoolClient) => {
    if (client instanceof InstrumentedClient) client.dropHeldBegin();
  });
}

export type PoolInstrumentation = {
  /** Statements slower than this (ms, the statement alone) are reported; 0 reports every one. */
  slowQueryMs: number;
  onSlowQuery(entry: { query: string; took: number }): void;
  /** Waits for a free connection longer than this (ms) are reported; 0 reports every wait that queued. */
  poolWaitMs: number;
  onPoolWait(entry: { waits: number; maxWaitMs: number; totalWaitMs: number; poolSize: number }): void;
};

/** The pool options that make its clients report slow statements (see InstrumentedClient). */
export function slowStatementReporter(options: PoolInstrumentation): InstrumentedClientConfig {
  return {
    onStatementTimed: ({ query, took }) => {
      if (took >= options.slowQueryMs) options.onSlowQuery({ query, took: Math.round(took) });
    },
  };
}

/** Wraps the ORM pool's connect() to time waits for a free connection. */
export function instrumentPool(pool: pg.Pool, options: PoolInstrumentation): void {
  // Waits above the threshold, summed up: the first is reported at once, the rest at most once a second.
  let pending = { waits: 0, maxWaitMs: 0, totalWaitMs: 0 };
  let lastReport = 0;
  const report = (waited: number) => {
    pending.waits++;
    pending.totalWaitMs += waited;
    pending.maxWaitMs = Math.max(pending.maxWaitMs, waited);
    const now = performance.now();
    if (now - lastReport < 1_000) return;
    lastReport = now;
    options.onPoolWait({
      waits: pending.waits,
      maxWaitMs: Math.round(pending.maxWaitMs),
      totalWaitMs: Math.round(pending.totalWaitMs),
      poolSize: pool.options.max,
    });
    pending = { waits: 0, maxWaitMs: 0, totalWaitMs: 0 };
  };
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  // biome-ignore lint/suspicious/noExplicitAny: connect() is overloaded (callback or promise).
  (pool as any).connect = (callback?: (...args: unknown[]) => void) => {
    // biome-ignore lint/suspicious/noExplicitAny: the callback form, untimed (nothing of ours uses it).
    if (callback) return (connect as any)(callback);
    // Only a checkout that finds no idle connection and no room to open one queues.
    if (pool.idleCount > 0 || pool.totalCount < pool.options.max) return connect();
    const started = performance.now();
    return connect().then((client) => {
      const waited = performance.now() - started;
      if (waited >= options.poolWaitMs) report(waited);
      return client;
    });
  };
}

/**
 * Runs a parameterised statement (`$1`, `$2` …) on `em`'s connection — inside its transaction when
 * one is open, as `em.execute` would — and returns the rows. Database errors come back as
 * MikroORM's exceptions (UniqueConstraintViolationException …), as from `em.execute`.
 */
export async function sql<T>(em: EntityManager, text: string, params: readonly unknown[] = []): Promise<T[]> {
  const transaction = em.getTransactionContext() as unknown as QueryExecutor | undefined;
  if (!transaction) return onPool<T>(em, em.getConnection(), text, params);
  try {
    return (await transaction.executeQuery(CompiledQuery.raw(text, params as unknown[]))).rows as T[];
  } catch (error) {
    throw converted(em, error);
  }
}

/**
 * Runs one statement on a pool connection of its own, OUTSIDE any transaction — even when `em` has
 * one open: it does not see that transaction's uncommitted writes, is not rolled back with it, and
 * commits on its own (autocommit). Only for the deliberate cases of docs/decisions/0007-raw-sql.md:
 * work whose fate must not follow a caller's transaction (a rate-limit count must survive the
 * refused call's rollback; the mail loop's claim commits before the send), or that runs where no
 * transaction exists (the session check before any procedure, process-lifetime reads, `/metrics`
 * gauges, `/ready`). Everything inside a unit of work uses `sql(em, …)`.
 */
export async function sqlOutsideTransaction<T>(
  em: EntityManager,
  text: string,
  params: readonly unknown[] = [],
): Promise<T[]> {
  return onPool<T>(em, em.getConnection(), text, params);
}

/**
 * A heavy cross-user read that a read replica may serve (DATABASE_REPLICA_URLS; server/db/read-replica.ts):
 * on a replica's pool when `em` has no transaction open (the primary without replicas), on the
 * transaction otherwise — as `em.execute(text, params, { connectionType: 'read' })` does.
 */
export async function sqlOnReplica<T>(
  em: EntityManager,
  text: string,
  params: readonly unknown[] = [],
): Promise<T[]> {
  if (em.getTransactionContext()) return sql<T>(em, text, params);
  return onPool<T>(em, em.getConnection('read'), text, params);
}

type OrmConnection = ReturnType<EntityManager['getConnection']>;

/**
 * One statement on a connection of `connection`'s pool, straight through pg (Kysely's executor
 * adds a connection provider, a driver and their promises around the same connect/query/release:
 * ~2 % of a balance read's CPU).
 */
async function onPool<T>(
  em: EntityManager,
  connection: OrmConnection,
  text: string,
  params: readonly unknown[],
): Promise<T[]> {
  try {
    // Keyed by the connection's Kysely client: a new client (a reconnect) comes with a new pool.
    const kysely = connection.getClient();
    let pool = poolsOf.get(kysely);
    if (!pool) {
      pool = await connection.getNativeClient();
      poolsOf.set(kysely, pool);
    }
    const client = await pool.connect();
    try {
      return (await client.query(text, params as unknown[])).rows as T[];
    } finally {
      client.release();
    }
  } catch (error) {
    throw converted(em, error);
  }
}

/** A driver error as MikroORM's exception (UniqueConstraintViolationException …). */
function converted(em: EntityManager, error: unknown): Error {
  return em
    .getPlatform()
    .getExceptionConverter()
    .convertException(error as Error);
}

/** The pg pool behind each ORM connection's Kysely client (MikroORM hands it out asynchronously). */
const poolsOf = new WeakMap<object, pg.Pool>();

/** What a Kysely instance and a Kysely transaction both are (MikroORM's transaction context is one). */
type QueryExecutor = { executeQuery(query: CompiledQuery): Promise<{ rows: unknown[] }> };
