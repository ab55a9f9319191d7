// Keyset pagination, newest first, by (created_at, id): stable under inserts, served by the
// (user_id, created_at desc, id desc) indexes. Cursors are opaque strings to the client.
import { AppError } from './app-error.ts';

export type Cursor = { createdAt: Date; id: string };

export function encodeCursor(createdAt: Date, id: string): string {
  return `${createdAt.toISOString()}_${id}`;
}

export function decodeCursor(cursor: string | null | undefined): Cursor | null {
  if (!cursor) return null;
  const [iso, id] = cursor.split('_');
  const createdAt = new Date(iso ?? '');
  if (!id || Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/.test(id)) {
    throw new AppError('bad_request', 'Invalid cursor', { fieldErrors: { cursor: ['Invalid cursor'] } });
  }
  return { createdAt, id };
}

/** The filter for rows after `cursor` in (created_at desc, id desc) order. */
export function newestFirstAfter(cursor: Cursor | null) {
  if (!cursor) return {};
  return {
    $or: [{ createdAt: { $lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { $lt: cursor.id } }],
  };
}

/** Splits a limit+1 fetch into the page and the cursor of the next one. */
export function toPage<T extends { createdAt: Date; id: string }, D>(
  rows: T[],
  limit: number,
  map: (row: T) => D,
) {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(map),
    nextCursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}
