// Ends of access, heard by every API process. When sessions, API keys or a whole account stop being
// valid, the ending transaction NOTIFYs (delivered only if it commits), so every process can close
// the live streams (generations.onUpdate) opened with them at once. Expiry needs no announcement:
// the stream listener re-checks its credentials with liveCredentials() every few seconds, which
// also catches an announcement missed while its connection was down.
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../../db/sql.ts';
import { SESSION_ABSOLUTE_MS } from './lucia.ts';

export const ACCESS_ENDED_CHANNEL = 'forgeline_access_ended';

/** What ended: sessions (by their public handle, the SHA-256 of the id), API keys, or accounts. */
export type AccessEnded = { sessions?: string[]; apiKeys?: string[]; users?: string[] };

// A NOTIFY payload must stay under 8000 bytes: 100 handles of 64 characters fit.
const IDS_PER_NOTIFY = 100;

/** Queues the announcement in the current transaction. */
export async function announceAccessEnded(em: EntityManager, ended: AccessEnded): Promise<void> {
  for (const kind of ['sessions', 'apiKeys', 'users'] as const) {
    const ids = ended[kind] ?? [];
    for (let start = 0; start < ids.length; start += IDS_PER_NOTIFY) {
      const payload = JSON.stringify({ [kind]: ids.slice(start, start + IDS_PER_NOTIFY) });
      await sql(em, 'select pg_notify($1, $2)', [ACCESS_ENDED_CHANNEL, payload]);
    }
  }
}

const ids = (value: unknown) =>
  Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string') : [];

export function parseAccessEnded(payload: string): AccessEnded {
  const parsed = JSON.parse(payload) as Record<string, unknown>;
  return { sessions: ids(parsed.sessions), apiKeys: ids(parsed.apiKeys), users: ids(parsed.users) };
}

export type Credentials = { sessions: string[]; apiKeys: string[]; users: string[] };
export type LiveCredentials = { sessions: Set<string>; apiKeys: Set<string>; users: Set<string> };

/** A PostgreSQL array literal of ids we made ourselves (hex handles, uuids): nothing to escape. */
const arrayLiteral = (values: string[]) => `{${values.filter((v) => /^[0-9a-f-]+$/i.test(v)).join(',')}}`;

/**
 * Which of these credentials still let their holder in right now: a session that exists, has
 * not expired (sliding or absolute) and belongs to an active account; an API key neither revoked
 * nor expired, of an active account; an active account (for streams opened in-process).
 */
export async function liveCredentials(em: EntityManager, credentials: Credentials): Promise<LiveCredentials> {
  const live: LiveCredentials = { sessions: new Set(), apiKeys: new Set(), users: new Set() };
  if (credentials.sessions.length) {
    const rows = await sql<{ id: string }>(
      em,
      `select s.id from sessions s join users u on u.id = s.user_id
        where s.id = any($1::text[]) and s.expires_at > now()
          and s.created_at > now() - make_interval(secs => $2) and u.status = 'active'`,
      [arrayLiteral(credentials.sessions), SESSION_ABSOLUTE_MS / 1000],
    );
    for (const row of rows) live.sessions.add(row.id);
  }
  if (credentials.apiKeys.length) {
    const rows = await sql<{ id: string }>(
      em,
      `select k.id from api_keys k join users u on u.id = k.user_id
        where k.id = any($1::uuid[]) and k.revoked_at is null
          and (k.expires_at is null or k.expires_at > now()) and u.status = 'active'`,
      [arrayLiteral(credentials.apiKeys)],
    );
    for (const row of rows) live.apiKeys.add(row.id);
  }
  if (credentials.users.length) {
    const rows = await sql<{ id: string }>(
      em,
      `select id from users where id = any($1::uuid[]) and status = 'active'`,
      [arrayLiteral(credentials.users)],
    );
    for (const row of rows) live.users.add(row.id);
  }
  return live;
}
