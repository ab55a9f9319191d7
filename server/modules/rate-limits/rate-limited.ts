// How a procedure declares its rate limits: `.meta(rateLimited({ name: 'signUpPerIp', by: 'ip' }))`.
// The procedure middleware (trpc.ts) runs this around the call's unit of work, before its
// transaction opens, so counting never waits inside a transaction and a count survives the call's
// rollback (see rate-limits.service.ts).
import type { ProcedureMeta } from '../../trpc/trpc.ts';
import { createRateLimiter, type RateLimitUse } from './rate-limits.service.ts';

/**
 * Counts the call against `limits`; past one the call is refused (TOO_MANY_REQUESTS) and runs
 * nothing. `onlyFailures` limits give their slot back when the call succeeds (failed sign-ins are
 * limited, successful ones are not).
 */
export function rateLimited(...limits: RateLimitUse[]): Required<Pick<ProcedureMeta, 'around'>> {
  return {
    async around(ctx, getRawInput, run) {
      const limiter = createRateLimiter(ctx.orm.em.fork());
      const input = (await getRawInput()) as { email?: unknown } | undefined;
      const email = typeof input?.email === 'string' ? input.email.trim().toLowerCase() : null;
      const reserved: { use: RateLimitUse; subject: string }[] = [];
      for (const use of limits) {
        const subject = use.by === 'ip' ? ctx.client.ip : use.by === 'user' ? (ctx.user?.id ?? null) : email;
        await limiter.consume(use.name, subject);
        if (use.onlyFailures && subject) reserved.push({ use, subject });
      }
      const result = await run();
      if (result.ok) for (const { use, subject } of reserved) await limiter.release(use.name, subject);
      return result;
    },
  };
}
