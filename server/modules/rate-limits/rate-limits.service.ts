// Rate limits for the doors attackers knock on: sign-in, sign-up, password reset, verification
// mail. Fixed windows counted in PostgreSQL with one upsert (`… on conflict do update set count =
// count + 1 returning count`), so concurrent requests on any number of API processes count exactly.
// Procedures declare their limits in tRPC meta (`rateLimited(…)`, rate-limited.ts), applied before the
// procedure's transaction opens, on connections of its own: a failed sign-in rolls its transaction
// back and its count must survive that, and a request must never hold one pooled connection while
// waiting for another (50 parallel sign-ins on a pool of 50 would deadlock).
import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError } from '../../common/app-error.ts';
import { sql, sqlOutsideTransaction } from '../../db/sql.ts';

export type RateLimitRule = { limit: number; windowSeconds: number; message: string };

export const RATE_LIMITS = {
  signInPerIp: { limit: 60, windowSeconds: 600, message: 'Too many sign-in attempts from your network' },
  /** Spec §11: at most 100 failed sign-ins per account per hour. */
  failedSignInsPerAccount: {
    limit: 100,
    windowSeconds: 3600,
    message: 'Too many failed sign-ins for this account',
  },
  signUpPerIp: { limit: 30, windowSeconds: 3600, message: 'Too many sign-ups from your network' },
  passwordResetPerIp: {
    limit: 20,
    windowSeconds: 3600,
    message: 'Too many reset requests from your network',
  },
  passwordResetPerEmail: { limit: 5, windowSeconds: 3600, message: 'Too many reset requests for this email' },
  emailVerificationPerUser: { limit: 5, windowSeconds: 3600, message: 'Too many verification emails' },
} as const satisfies Record<string, RateLimitRule>;
export type RateLimitName = keyof typeof RATE_LIMITS;

/** Subjects (emails, IPs) are stored hashed: the table holds no personal data. */
const rateLimitKey = (name: RateLimitName, subject: string) =>
  `${name}:${createHash('sha256').update(subject.toLowerCase()).digest('base64url')}`;

function refuse(rule: RateLimitRule, windowStart: Date): never {
  const minutes = Math.max(
    1,
    Math.ceil((windowStart.getTime() + rule.windowSeconds * 1000 - Date.now()) / 60_000),
  );
  throw new AppError(
    'rate_limited',
    `${rule.message}; try again in ${minutes} minute${minutes === 1 ? '' : 's'}`,
  );
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;

/** Who a limit counts: the client address, the email in the input, or the signed-in user. */
export type RateLimitUse = { name: RateLimitName; by: 'ip' | 'email' | 'user'; onlyFailures?: boolean };

/** `em` must not be inside the procedure's transaction: pass a fresh fork of the ORM's EntityManager. */
export function createRateLimiter(em: EntityManager) {
  const windowOf = (rule: RateLimitRule) => {
    const ms = rule.windowSeconds * 1000;
    return new Date(Math.floor(Date.now() / ms) * ms);
  };
  const increment = async (name: RateLimitName, subject: string) => {
    const rule = RATE_LIMITS[name];
    const windowStart = windowOf(rule);
    // Out of the procedure's transaction on purpose (docs/decisions/0007): counted before it opens,
    // and a refused or failed call's count survives its rollback.
    const [row] = await sqlOutsideTransaction<{ count: number }>(
      em,
      `insert into rate_limit_windows (key, window_start, count, created_at) values ($1, $2, 1, now())
       on conflict (key, window_start) do update set count = rate_limit_windows.count + 1
       returning count`,
      [rateLimitKey(name, subject), windowStart],
    );
    return { rule, windowStart, count: row?.count ?? 1 };
  };
  return {
    /** Counts one attempt; refuses (TOO_MANY_REQUESTS) past the limit. No subject, no limit. */
    async consume(name: RateLimitName, subject: string | null | undefined) {
      if (!subject) return;
      const { rule, windowStart, count } = await increment(name, subject);
      if (count > rule.limit) refuse(rule, windowStart);
    },
    /**
     * Gives back a slot `consume` took: an attempt that turned out not to count (a sign-in that
     * succeeded does not count against the failed-sign-in limit). Reserving first and releasing on
     * success keeps the limit exact under concurrency: 50 parallel wrong passwords at 99 failures
     * get one more try, not 50.
     */
    async release(name: RateLimitName, subject: string) {
      await sqlOutsideTransaction(
        em,
        'update rate_limit_windows set count = count - 1 where key = $1 and window_start = $2 and count > 0',
        [rateLimitKey(name, subject), windowOf(RATE_LIMITS[name])],
      );
    },
  };
}

/** Deletes up to `limit` counter windows that started before `before` (the retention job's batches). */
export async function deleteOldWindows(em: EntityManager, before: Date, limit: number): Promise<number> {
  const rows = await sql<{ key: string }>(
    em,
    `delete from rate_limit_windows where (key, window_start) in (
       select key, window_start from rate_limit_windows where window_start < $1 limit $2 for update skip locked)
     returning key`,
    [before, limit],
  );
  return rows.length;
}
