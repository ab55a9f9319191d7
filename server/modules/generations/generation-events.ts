// Live generation updates across processes: status transitions NOTIFY inside their transaction
// (so listeners hear only committed changes), and every API process LISTENs on one dedicated
// connection, fanning events out to the SSE subscriptions of the user they concern.
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
  const sleepers = new Set<() => void>();

  const connect = async (): Promise<void> => {
    const next = new pg.Client({
      connectionString: options.url,
      ssl: options.ssl ? { rejectUnauthorized: false } : undefined,
      application_name: 'forgeline-events',
    });
    next.on('notification', (message) => {
      if (message.channel !== CHANNEL || !message.payload) return;
      try {
        const event = JSON.parse(message.payload) as GenerationEvent;
        for (const deliver of listeners.get(event.userId) ?? []) deliver(event);
      } catch (error) {
        options.logger.warn({ err: error }, 'unreadable generation event');
      }
    });
    next.on('error', (error) => {
      options.logger.warn({ err: error }, 'generation events connection lost; reconnecting');
      void next.end().catch(() => {});
      if (client === next) client = null;
      scheduleReconnect();
    });
    await next.connect();
    await next.query(`listen ${CHANNEL}`);
    client = next;
    retryMs = 250;
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
    async *listen(userId, signal) {
      const queue: GenerationEvent[] = [];
      let wake: (() => void) | null = null;
      const deliver = (event: GenerationEvent) => {
        queue.push(event);
        wake?.();
      };
      const set = listeners.get(userId) ?? new Set();
      set.add(deliver);
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
        set.delete(deliver);
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
