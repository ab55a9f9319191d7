// Paying customers' generations run first: a generation job is enqueued with pg-boss priority
// PAID_QUEUE_PRIORITY when its user has a live subscription (trialing, active or past_due: the
// statuses that still give a plan), 0 otherwise; pg-boss fetches by priority, then age.
//
// What it costs generations.create: the lookup is one index probe (the partial unique index
// `subscriptions_one_live_per_user` answers it alone), but a round trip on the hottest path, so
// each process caches the answer per user for PRIORITY_TTL_MS: a hit costs no statement; a miss
// (a user's first create in a process, then at most once per TTL) costs one. A plan bought or
// ended reaches the queue within the TTL — a queue perk, not money, so a little lateness is fine.
import type { EntityManager } from '@mikro-orm/postgresql';
import { LIVE_SUBSCRIPTION_STATUSES } from '../../../shared/schemas/billing.ts';

export const PAID_QUEUE_PRIORITY = 10;
export const PRIORITY_TTL_MS = 60_000;
const MAX_CACHED_USERS = 50_000;

const LIVE_SUBSCRIPTION_SQL = `select 1 as live from subscriptions
  where user_id = ? and status in (${LIVE_SUBSCRIPTION_STATUSES.map(() => '?').join(', ')}) limit 1`;

/** The job priority the user's subscription gives, read now. */
export async function queuePriorityOf(em: EntityManager, userId: string): Promise<number> {
  const rows = await em.execute<{ live: number }[]>(LIVE_SUBSCRIPTION_SQL, [
    userId,
    ...LIVE_SUBSCRIPTION_STATUSES,
  ]);
  return rows.length > 0 ? PAID_QUEUE_PRIORITY : 0;
}

export type QueuePriorities = {
  /** The user's job priority, from this process's cache when it is fresh. */
  of(em: EntityManager, userId: string): Promise<number>;
};

export function createQueuePriorities(
  options: { ttlMs?: number; clock?: () => number } = {},
): QueuePriorities {
  const ttlMs = options.ttlMs ?? PRIORITY_TTL_MS;
  const clock = options.clock ?? Date.now;
  const cached = new Map<string, { priority: number; until: number }>();
  return {
    async of(em, userId) {
      const hit = cached.get(userId);
      if (hit && hit.until > clock()) return hit.priority;
      const priority = await queuePriorityOf(em, userId);
      cached.delete(userId);
      // Oldest first out when full (a Map iterates in insertion order).
      if (cached.size >= MAX_CACHED_USERS) cached.delete(cached.keys().next().value as string);
      cached.set(userId, { priority, until: clock() + ttlMs });
      return priority;
    },
  };
}
