// Paying customers' generations run first: a generation job gets pg-boss priority
// PAID_QUEUE_PRIORITY when its user has a live subscription (trialing, active or past_due: the
// statuses that still give a plan), 0 otherwise; pg-boss fetches by priority, then age.
//
// What it costs generations.create: nothing but an index probe. The lookup is an SQL expression
// that the create's one statement evaluates in its job insert (generations.service.ts): the
// partial unique index `subscriptions_one_live_per_user` answers it alone, read at create time in
// the create's own snapshot — no round trip, no cache, never stale.
import type { EntityManager } from '@mikro-orm/postgresql';
import { LIVE_SUBSCRIPTION_STATUSES } from '../../../shared/schemas/billing.ts';
import { sql } from '../../db/sql.ts';

export const PAID_QUEUE_PRIORITY = 10;

/** SQL: the job priority of the user whose id is the SQL expression `user` (a parameter). */
export const queuePrioritySql = (user: string) =>
  `coalesce((select ${PAID_QUEUE_PRIORITY} from subscriptions where user_id = ${user}
      and status in (${LIVE_SUBSCRIPTION_STATUSES.map((status) => `'${status}'`).join(', ')}) limit 1), 0)`;

/** The job priority the user's subscription gives, read now (what a create would use). */
export async function queuePriorityOf(em: EntityManager, userId: string): Promise<number> {
  const rows = await sql<{ priority: number }>(em, `select ${queuePrioritySql('$1')} as priority`, [userId]);
  return Number(rows[0]?.priority ?? 0);
}
