// Invariant checks over the whole database (spec §5), run by db:verify and by the tests.
// Each check is one SQL query returning offending rows; an empty result means the invariant holds.
import type { EntityManager } from '@mikro-orm/postgresql';

export type Violation = { check: string; detail: Record<string, unknown> };

const CHECKS: Record<string, string> = {
  'balance equals the sum of the ledger': `
    select b.user_id, b.balance, coalesce(sum(t.amount), 0)::int as ledger_sum
      from credit_balances b left join credit_transactions t on t.user_id = b.user_id
     group by b.id
    having b.balance <> coalesce(sum(t.amount), 0)`,
  'balance is never negative': `select user_id, balance from credit_balances where balance < 0`,
  'balance_after follows the running sum': `
    select user_id, seq, balance_after, running
      from (select user_id, seq, balance_after,
                   sum(amount) over (partition by user_id order by seq) as running
              from credit_transactions where user_id is not null) chain
     where balance_after <> running or balance_after < 0`,
  'ledger sequence has no gaps': `
    select b.user_id, b.ledger_seq, count(t.id)::int as rows, max(t.seq) as max_seq
      from credit_balances b left join credit_transactions t on t.user_id = b.user_id
     group by b.id
    having b.ledger_seq <> count(t.id) or b.ledger_seq <> coalesce(max(t.seq), 0)`,
  'totals equal the sums by type': `
    select b.user_id, b.total_purchased, b.total_granted, b.total_used, b.total_refunded
      from credit_balances b left join credit_transactions t on t.user_id = b.user_id
     group by b.id
    having b.total_purchased <> coalesce(sum(t.amount) filter (where t.type = 'purchase'), 0)
        or b.total_granted <> coalesce(sum(t.amount) filter (where t.type in
             ('signup_bonus', 'subscription_grant', 'promo', 'admin_adjustment', 'expiration')), 0)
        or b.total_used <> -coalesce(sum(t.amount) filter (where t.type = 'usage'), 0)
        or b.total_refunded <> coalesce(sum(t.amount) filter (where t.type = 'refund'), 0)`,
  'expiring credits never exceed the balance': `
    select b.user_id, b.balance, sum(g.remaining)::int as expiring
      from credit_balances b join credit_grants g on g.user_id = b.user_id
     group by b.id
    having sum(g.remaining) > b.balance`,
  'purchases are credited once per payment': `
    select user_id, payment_id, count(*)::int as credits
      from credit_transactions where type in ('purchase', 'subscription_grant') and payment_id is not null
     group by user_id, payment_id having count(*) > 1`,
  'a generation is refunded at most once': `
    select g.user_id, g.id as generation_id, count(t.id)::int as refunds
      from generations g join credit_transactions t on t.generation_id = g.id and t.type = 'refund'
     group by g.id having count(t.id) > 1`,
  'failed and canceled generations are refunded, succeeded ones never': `
    select g.user_id, g.id as generation_id, g.status, count(t.id)::int as refunds
      from generations g left join credit_transactions t on t.generation_id = g.id and t.type = 'refund'
     where g.credits_charged > 0 and g.user_id is not null and g.status in ('failed', 'canceled', 'succeeded')
     group by g.id
    having (g.status in ('failed', 'canceled') and count(t.id) <> 1) or (g.status = 'succeeded' and count(t.id) > 0)`,
  'grants belong to their source transaction’s user': `
    select g.user_id, g.id as grant_id from credit_grants g
      join credit_transactions t on t.id = g.source_transaction_id
     where t.user_id is distinct from g.user_id`,
  'every user has one balance': `
    select u.id as user_id from users u left join credit_balances b on b.user_id = u.id where b.id is null`,
};

/** The names of the checks, in the order they run. */
export const INVARIANT_CHECKS = Object.keys(CHECKS);

export async function verifyInvariants(
  em: EntityManager,
  options: { userIds?: string[] } = {},
): Promise<Violation[]> {
  const violations: Violation[] = [];
  for (const [check, sql] of Object.entries(CHECKS)) {
    const rows = await em.getConnection().execute<Record<string, unknown>[]>(sql);
    for (const row of rows) {
      if (options.userIds && !options.userIds.includes(String(row.user_id))) continue;
      violations.push({ check, detail: row });
    }
  }
  return violations;
}
