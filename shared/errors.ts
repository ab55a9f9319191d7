// Domain error codes shared by server and client. Services throw AppError with one of these;
// server/trpc/errors.ts maps them to tRPC codes, and the client can switch on the same values.
export const APP_ERROR_CODES = [
  'bad_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'insufficient_credits',
  /** An API key's daily credit budget (maxCreditsPerDay) would be exceeded. */
  'budget_exceeded',
  'rate_limited',
  'invalid_credentials',
  /** The server is not set up for this (e.g. no payment provider configured). */
  'unavailable',
] as const;
export type AppErrorCode = (typeof APP_ERROR_CODES)[number];

/** Header every cookie-authenticated mutation must carry (see README, "CSRF"). */
export const CSRF_HEADER = 'x-csrf-protection';
/** Name of the Lucia session cookie. */
export const SESSION_COOKIE = 'forgeline_session';
