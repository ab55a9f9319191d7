// Is this failure "the database cannot be reached right now" (as opposed to a bug or bad data)?
// Such failures answer SERVICE_UNAVAILABLE (HTTP 503 with Retry-After) instead of an internal
// error, and background loops log them as warnings and simply try again on their next turn.
import { ConnectionException } from '@mikro-orm/core';

/** Seconds a client is told to wait (Retry-After) while the database is unreachable. */
export const RETRY_AFTER_SECONDS = 5;

export const UNAVAILABLE_MESSAGE = 'The database is unavailable right now; retry in a few seconds';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
// SQLSTATE: admin_shutdown, crash_shutdown, cannot_connect_now (starting up, shutting down, in
// recovery), too_many_connections; class 08 is "connection exception".
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
// node-postgres reports a dropped socket or a pool that could not connect by message only.
const MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|not queryable|Connection ended unexpectedly|the database system is (starting up|shutting down|in recovery)/i;

export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 10 && current && typeof current === 'object'; depth++) {
    if (current instanceof ConnectionException) return true;
    const { code, message, errors } = current as { code?: unknown; message?: unknown; errors?: unknown };
    // An outbound HTTP call (payment or AI provider) failing is not the database.
    if (message === 'fetch failed') return false;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || SQLSTATES.has(code) || /^08/.test(code))) {
      return true;
    }
    if (typeof message === 'string' && MESSAGES.test(message)) return true;
    if (Array.isArray(errors) && errors.some(isDatabaseUnavailable)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
