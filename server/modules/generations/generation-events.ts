// Live generation updates across processes: status transitions NOTIFY inside their transaction
// (so listeners hear only committed changes), and every API process LISTENs on one dedicated
// connection, fanning events out to the SSE subscriptions of the user they concern. A lost
// connection (database restarted) is re-established with backoff (at most 2 s apart), and what
// changed meanwhile is re-sent to the users listening.
import type { EntityManager } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { GenerationStatus } from '../../../shared/schemas/generations.ts';
import type { Logger } from '../../common/logger.ts';

const CHANNEL = 'forgeline_generation_updates';

export type GenerationEvent = { userId: string; id: string; status: GenerationStatus };

/** Queues a notification in the current transaction; delivered when (and if) it commits. */
export async function notifyGenerationUpdate(em: EntityManager, event: GenerationEvent): Promise<void> {
  await em.execute('select pg_notify(?, ?)', [CHANNEL, JSON.stringify(event)]);
}

export type GenerationEvents = {
  /** Yields the user's events until `signal` aborts. */
  listen(userId: string, signal: AbortSignal | undefined): AsyncGenerator<GenerationEvent>;
  close(): Promise<void>;
};

export async function startGenerationEvents(options: {
  url: string;
  ssl?: boolean;
  logger: Logger;
}): Promise<GenerationEvents> {
  const listeners = new Map<string, Set<(event: GenerationEvent) => void>>();
  let client: pg.Client | null = null;
  let closed = false;
  let retryMs = 250;
  let reconnecting = false;
  /** When the LISTEN connection was lost (null while connected). */
  let lostAt: Date | null = null;
  const sleepers = new Set<() => void>();
  const deliver = (event: GenerationEvent) => {
    for (const send of listeners.get(event.userId) ?? []) send(event);
  };

  const connect = async (): Promise<void> => {
    const next = new pg.Client({
      connectionString: options.url,
      ssl: options.ssl ? { rejectUnauthorized: false } : undefined,
      application_name: 'forgeline-events',
    });
    next.on('notification', (message) => {
      if (message.channel !== CHANNEL || !message.payload) return;
      try {
        deliver(JSON.parse(message.payload) as GenerationEvent);
      } catch (error) {
        options.logger.warn({ err: error }, 'unreadable generation event');
      }
    });
    const lost = (error?: Error) => {
      if (client !== next) return; // already handled, or never established
      client = null;
      lostAt ??= new Date();
      if (!closed) options.logger.warn({ err: error }, 'generation events connection lost; reconnecting');
      void next.end().catch(() => {});
      scheduleReconnect();
    };
    next.on('error', lost);
    next.on('end', () => lost());
    try {
      await next.connect();
      await next.query(`listen ${CHANNEL}`);
    } catch (error) {
      void next.end().catch(() => {});
      throw error;
    }
    client = next;
    retryMs = 250;
    if (lostAt) await catchUp(next, lostAt);
  };
  /**
   * Notifications sent while we were not listening are gone: after a reconnect, every listening
   * user is sent the generations that changed around and since the gap (a transition's updated_at is
   * its transaction's start, so a margin covers those in flight when the connection dropped).
   */
  const catchUp = async (connection: pg.Client, since: Date) => {
    lostAt = null;
    const userIds = [...listeners.keys()];
    if (userIds.length === 0) return;
    try {
      const { rows } = await connection.query<{ id: string; user_id: string; status: GenerationStatus }>(
        `select id, user_id, status from generations
          where user_id = any($1::uuid[]) and updated_at > $2::timestamptz - interval '5 minutes'`,
        [userIds, since.toISOString()],
      );
      for (const row of rows) deliver({ userId: row.user_id, id: row.id, status: row.status });
    } catch (error) {
      options.logger.warn({ err: error }, 'could not catch up on generation events');
    }
  };
  const scheduleReconnect = () => {
    if (closed || reconnecting) return;
    reconnecting = true;
    setTimeout(() => {
      reconnecting = false;
      connect().catch(() => {
        retryMs = Math.min(retryMs * 2, 2_000);
        scheduleReconnect();
      });
    }, retryMs).unref();
  };
  await connect();

  return {
    async *listen(userId, signal) {
      const queue: GenerationEvent[] = [];
      let wake: (() => void) | null = null;
      const push = (event: GenerationEvent) => {
        queue.push(event);
        wake?.();
      };
      const set = listeners.get(userId) ?? new Set();
      set.add(push);
      listeners.set(userId, set);
      const onAbort = () => wake?.();
      signal?.addEventListener('abort', onAbort);
      try {
        while (!signal?.aborted && !closed) {
          const event = queue.shift();
          if (event) {
            yield event;
            continue;
          }
          await new Promise<void>((resume) => {
            wake = resume;
            sleepers.add(resume);
          });
          if (wake) sleepers.delete(wake);
          wake = null;
        }
      } finally {
        signal?.removeEventListener('abort', onAbort);
        set.delete(push);
        if (set.size === 0) listeners.delete(userId);
      }
    },
    async close() {
      closed = true;
      for (const wakeUp of sleepers) wakeUp();
      await client?.end().catch(() => {});
    },
  };
}
