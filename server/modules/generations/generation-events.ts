// Live generation updates across processes: status transitions NOTIFY inside their transaction
// (so listeners hear only committed changes), and every API process LISTENs on one dedicated
// connection, fanning events out to the SSE subscriptions of the user they concern. A lost
// connection (database restarted) is re-established with backoff (at most 2 s apart), and what
// changed meanwhile is re-sent to the users listening.
//
// A stream lives only as long as the access it was opened with. The same connection hears the
// identity module's announcements of ended sessions, API keys and accounts (access-events.ts) and
// ends the matching streams at once; every `recheckMs` it also re-checks the credentials of all
// its open streams, which ends those whose session or key expired (and any whose end it missed).
import type { EntityManager } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { GenerationStatus } from '../../../shared/schemas/generations.ts';
import { AppError } from '../../common/app-error.ts';
import type { Logger } from '../../common/logger.ts';
import { sql } from '../../db/sql.ts';
import {
  ACCESS_ENDED_CHANNEL,
  type AccessEnded,
  type Credentials,
  type LiveCredentials,
  parseAccessEnded,
} from '../identity/access-events.ts';

const CHANNEL = 'forgeline_generation_updates';
const DEFAULT_RECHECK_MS = 5_000;

export type GenerationEvent = { userId: string; id: string; status: GenerationStatus };

/** Queues a notification in the current transaction; delivered when (and if) it commits. */
export async function notifyGenerationUpdate(em: EntityManager, event: GenerationEvent): Promise<void> {
  await sql(em, 'select pg_notify($1, $2)', [CHANNEL, JSON.stringify(event)]);
}

/** Whose stream this is, and what let them open it. */
export type StreamAccess = {
  userId: string;
  /** The session's public handle (SHA-256 of its id), when opened with a session cookie. */
  sessionHandle: string | null;
  /** The API key, when opened with one. Neither: an in-process caller, bound to the account. */
  apiKeyId: string | null;
};

export type GenerationEvents = {
  /**
   * Yields the user's events until `signal` aborts. Throws AppError('unauthorized') once the
   * session, API key or account the stream was opened with ends.
   */
  listen(access: StreamAccess, signal: AbortSignal | undefined): AsyncGenerator<GenerationEvent>;
  close(): Promise<void>;
};

type Stream = { access: StreamAccess; deliver(event: GenerationEvent): void; end(message: string): void };

const endedMessage = (access: StreamAccess) =>
  access.sessionHandle
    ? 'Your session has ended; sign in again'
    : access.apiKeyId
      ? 'This API key is no longer valid'
      : 'This account can no longer sign in';

export async function startGenerationEvents(options: {
  url: string;
  ssl?: boolean;
  logger: Logger;
  /** Which credentials are still valid (identity's liveCredentials); without it, no re-check. */
  checkAccess?: (credentials: Credentials) => Promise<LiveCredentials>;
  /** How often open streams' credentials are re-checked (default 5 s). */
  recheckMs?: number;
}): Promise<GenerationEvents> {
  const listeners = new Map<string, Set<Stream>>();
  let client: pg.Client | null = null;
  let closed = false;
  let retryMs = 250;
  let reconnecting = false;
  /** When the LISTEN connection was lost (null while connected). */
  let lostAt: Date | null = null;
  const sleepers = new Set<() => void>();
  const deliver = (event: GenerationEvent) => {
    for (const stream of listeners.get(event.userId) ?? []) stream.deliver(event);
  };

  const allStreams = () => [...listeners.values()].flatMap((set) => [...set]);

  const endAccess = (ended: AccessEnded) => {
    const sessions = new Set(ended.sessions);
    const apiKeys = new Set(ended.apiKeys);
    const users = new Set(ended.users);
    for (const stream of allStreams()) {
      const { access } = stream;
      if (
        users.has(access.userId) ||
        (access.sessionHandle !== null && sessions.has(access.sessionHandle)) ||
        (access.apiKeyId !== null && apiKeys.has(access.apiKeyId))
      ) {
        stream.end(endedMessage(access));
      }
    }
  };

  let checking = false;
  const recheck = async () => {
    if (checking || closed || !options.checkAccess) return;
    const open = allStreams();
    if (open.length === 0) return;
    checking = true;
    try {
      const unique = (values: (string | null)[]) => [
        ...new Set(values.filter((v): v is string => v !== null)),
      ];
      const live = await options.checkAccess({
        sessions: unique(open.map((stream) => stream.access.sessionHandle)),
        apiKeys: unique(open.map((stream) => stream.access.apiKeyId)),
        users: unique(
          open.map((stream) =>
            stream.access.sessionHandle || stream.access.apiKeyId ? null : stream.access.userId,
          ),
        ),
      });
      for (const stream of open) {
        const { access } = stream;
        const valid = access.sessionHandle
          ? live.sessions.has(access.sessionHandle)
          : access.apiKeyId
            ? live.apiKeys.has(access.apiKeyId)
            : live.users.has(access.userId);
        if (!valid) stream.end(endedMessage(access));
      }
    } catch (error) {
      // A transient failure ends nothing: the next round checks again.
      options.logger.warn({ err: error }, 'could not re-check live streams’ access');
    } finally {
      checking = false;
    }
  };
  const recheckTimer = options.checkAccess
    ? setInterval(() => void recheck(), options.recheckMs ?? DEFAULT_RECHECK_MS)
    : null;
  recheckTimer?.unref();

  const connect = async (): Promise<void> => {
    const next = new pg.Client({
      connectionString: options.url,
      ssl: options.ssl ? { rejectUnauthorized: false } : undefined,
      application_name: 'forgeline-events',
    });
    next.on('notification', (message) => {
      if (!message.payload) return;
      try {
        if (message.channel === CHANNEL) {
          deliver(JSON.parse(message.payload) as GenerationEvent);
        } else if (message.channel === ACCESS_ENDED_CHANNEL) {
          endAccess(parseAccessEnded(message.payload));
        }
      } catch (error) {
        options.logger.warn({ err: error, channel: message.channel }, 'unreadable notification');
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
      await next.query(`listen ${ACCESS_ENDED_CHANNEL}`);
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
      connect()
        // Ends announced while we were away were not heard: check every open stream now.
        .then(() => recheck())
        .catch(() => {
          retryMs = Math.min(retryMs * 2, 2_000);
          scheduleReconnect();
        });
    }, retryMs).unref();
  };
  await connect();

  return {
    async *listen(access, signal) {
      const queue: GenerationEvent[] = [];
      let ended: string | null = null;
      let wake: (() => void) | null = null;
      const stream: Stream = {
        access,
        deliver(event) {
          queue.push(event);
          wake?.();
        },
        end(message) {
          ended ??= message;
          wake?.();
        },
      };
      const set = listeners.get(access.userId) ?? new Set();
      set.add(stream);
      listeners.set(access.userId, set);
      const onAbort = () => wake?.();
      signal?.addEventListener('abort', onAbort);
      try {
        while (!signal?.aborted && !closed) {
          // Nothing more after the access ended, not even what was already queued.
          if (ended) throw new AppError('unauthorized', ended);
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
        set.delete(stream);
        if (set.size === 0 && listeners.get(access.userId) === set) listeners.delete(access.userId);
      }
    },
    async close() {
      closed = true;
      if (recheckTimer) clearInterval(recheckTimer);
      for (const wakeUp of sleepers) wakeUp();
      await client?.end().catch(() => {});
    },
  };
}
