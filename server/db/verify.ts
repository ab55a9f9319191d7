// Invariant checks over the whole database (spec §5), run by db:verify and by the tests.
// Each check is one SQL query returning offending rows; an empty result means the invariant holds.
import type { EntityManager } from '@mikro-orm/postgresql';
import { OPERATION_OF_KIND } from '../../shared/schemas/generations.ts';
import { sql } from './sql.ts';

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
    select b.user_id, b.total_purchased, b.total_granted, b.total_used, b.total_refunded, b.total_clawed_back
      from credit_balances b left join credit_transactions t on t.user_id = b.user_id
     group by b.id
    having b.total_purchased <> coalesce(sum(t.amount) filter (where t.type = 'purchase'), 0)
        or b.total_granted <> coalesce(sum(t.amount) filter (where t.type in
             ('signup_bonus', 'subscription_grant', 'promo', 'admin_adjustment', 'expiration')), 0)
        or b.total_used <> -coalesce(sum(t.amount) filter (where t.type = 'usage'), 0)
        or b.total_refunded <> coalesce(sum(t.amount) filter (where t.type = 'refund'), 0)
        or b.total_clawed_back <> -coalesce(sum(t.amount) filter (where t.type in ('clawback', 'reinstatement')), 0)
        or b.balance <> b.total_purchased + b.total_granted - b.total_used + b.total_refunded - b.total_clawed_back`,
  'ledger amounts have the sign of their type': `
    select user_id, id as transaction_id, type, amount from credit_transactions
     where (type in ('usage', 'expiration', 'clawback') and amount >= 0)
        or (type in ('signup_bonus', 'purchase', 'subscription_grant', 'refund', 'promo', 'reinstatement') and amount <= 0)`,
  // Holds reserve from expiring grants first, so what is left of them fits in the available part.
  'expiring credits never exceed the balance': `
    select b.user_id, b.balance, b.held, sum(g.remaining)::int as expiring
      from credit_balances b join credit_grants g on g.user_id = b.user_id
     group by b.id
    having sum(g.remaining) > b.balance - b.held`,
  // ——— holds (issue 16): a generation's price is held while it runs, then captured or released ———
  'held equals the sum of open holds': `
    select b.user_id, b.held, coalesce(sum(h.amount) filter (where h.status = 'open'), 0)::int as open_holds
      from credit_balances b left join credit_holds h on h.user_id = b.user_id
     group by b.id
    having b.held <> coalesce(sum(h.amount) filter (where h.status = 'open'), 0) or b.held < 0 or b.held > b.balance`,
  'a hold is open while its generation runs, then settled as it ended': `
    select h.user_id, h.id as hold_id, h.status, h.amount, g.id as generation_id, g.status as generation_status,
           g.credits_charged
      from credit_holds h left join generations g on g.id = h.generation_id
     where (h.status = 'open' and (g.id is null or g.status not in ('queued', 'running')))
        or (h.status = 'captured' and g.id is not null and g.status <> 'succeeded')
        or (h.status = 'released' and g.status = 'succeeded')
        or (g.id is not null and (h.amount <> g.credits_charged or h.user_id is distinct from g.user_id))`,
  'a captured hold is one usage row of exactly what it held': `
    select h.user_id, h.id as hold_id, h.amount, t.id as transaction_id, t.type, t.amount as ledger_amount
      from credit_holds h left join credit_transactions t on t.id = h.transaction_id
     where h.status = 'captured'
       and (t.id is null or t.type <> 'usage' or t.amount <> -h.amount or t.user_id <> h.user_id
            or t.generation_id is distinct from h.generation_id)`,
  'a hold reserves from grants at most what it holds, and gives it all back or spends it': `
    select h.user_id, h.id as hold_id, h.status, h.amount, sum(a.amount)::int as reserved,
           sum(a.returned + a.forfeited)::int as given_back
      from credit_holds h join credit_grant_allocations a on a.hold_id = h.id
     group by h.id
    having sum(a.amount) > h.amount
        or bool_or(a.user_id <> h.user_id)
        or (h.status = 'open' and (sum(a.returned + a.forfeited) > 0 or bool_or(a.transaction_id is not null)))
        or (h.status = 'captured' and (sum(a.returned + a.forfeited) > 0
                                       or bool_or(a.transaction_id is distinct from h.transaction_id)))
        or (h.status = 'released' and (sum(a.amount - a.returned - a.forfeited) <> 0
                                       or bool_or(a.transaction_id is not null)))`,
  // A held generation: succeeded → exactly one usage row of its price; failed or canceled → none,
  // and never a refund (the release gives the credits back without a ledger row).
  'a held generation is charged once if it succeeded, never otherwise': `
    select g.user_id, g.id as generation_id, g.status, h.status as hold_status,
           count(t.id) filter (where t.type = 'usage')::int as usage_rows,
           count(t.id) filter (where t.type = 'refund')::int as refunds,
           coalesce(sum(t.amount) filter (where t.type = 'usage'), 0)::int as used
      from generations g join credit_holds h on h.generation_id = g.id
      left join credit_transactions t on t.generation_id = g.id and t.type in ('usage', 'refund')
     group by g.id, h.id
    having count(t.id) filter (where t.type = 'refund') > 0
        or (g.status = 'succeeded' and (count(t.id) filter (where t.type = 'usage') <> 1
                                        or coalesce(sum(t.amount) filter (where t.type = 'usage'), 0) <> -g.credits_charged))
        or (g.status <> 'succeeded' and count(t.id) filter (where t.type = 'usage') > 0)`,
  // A release gives its credits back to the day's spend of the key it was placed through.
  'an API key’s daily spend is what its holds of that UTC day hold or spent': `
    select k.user_id, s.api_key_id, s.day, s.credits,
           coalesce(sum(h.amount) filter (where h.status <> 'released'), 0)::int as holds
      from api_key_daily_spend s join api_keys k on k.id = s.api_key_id
      left join credit_holds h on h.api_key_id = s.api_key_id and (h.created_at at time zone 'UTC')::date = s.day
     group by s.api_key_id, s.day, s.credits, k.user_id
    having s.credits <> coalesce(sum(h.amount) filter (where h.status <> 'released'), 0)`,
  // ——— price snapshots: a generation records the version and unit cost it was priced at ———
  // (Not "in force when it was created": created_at is the app's clock, effective_from the
  // database's, and old rows are moved in time by tests; the version in force is the create's.)
  'a generation’s unit cost is its price version’s': `
    select g.user_id, g.id as generation_id, g.kind, g.unit_cost, g.created_at, v.id as version_id,
           v.costs, v.effective_from
      from generations g join feature_cost_versions v on v.id = g.price_version_id
     where g.unit_cost is distinct from (v.costs ->> (case g.kind ${Object.entries(OPERATION_OF_KIND)
       .map(([kind, operation]) => `when '${kind}' then '${operation}'`)
       .join(' ')} end))::int
        or g.credits_charged <> g.unit_cost * g.output_count`,
  'purchases are credited once per payment': `
    select user_id, payment_id, count(*)::int as credits
      from credit_transactions where type in ('purchase', 'subscription_grant') and payment_id is not null
     group by user_id, payment_id, coalesce(metadata->>'month', '') having count(*) > 1`,
  'a payment is credited for one kind only': `
    select user_id, payment_id from credit_transactions
     where type in ('purchase', 'subscription_grant') and payment_id is not null
     group by user_id, payment_id having count(distinct type) > 1`,
  'payment reversal totals match their refunds and disputes': `
    select p.user_id, p.id as payment_id, p.credits_clawed_back, p.credits_uncollected, p.credits_reinstated
      from payments p left join payment_reversals r on r.payment_id = p.id
     group by p.id
    having p.credits_clawed_back <> coalesce(sum(r.credits_clawed_back), 0)
        or p.credits_uncollected <> coalesce(sum(r.credits_uncollected), 0)
        or p.credits_reinstated <> coalesce(sum(r.credits_reinstated), 0)`,
  'clawbacks and reinstatements match the ledger': `
    select p.user_id, p.id as payment_id, p.credits_clawed_back, p.credits_reinstated,
           -coalesce(sum(t.amount) filter (where t.type = 'clawback'), 0) as ledger_clawed,
           coalesce(sum(t.amount) filter (where t.type = 'reinstatement'), 0) as ledger_reinstated
      from payments p left join credit_transactions t on t.payment_id = p.id
     where p.user_id is not null
     group by p.id
    having p.credits_clawed_back <> -coalesce(sum(t.amount) filter (where t.type = 'clawback'), 0)
        or p.credits_reinstated <> coalesce(sum(t.amount) filter (where t.type = 'reinstatement'), 0)`,
  'a payment never loses more credits than it gave': `
    select p.user_id, p.id as payment_id, p.credits_clawed_back, p.credits_uncollected, p.credits_reinstated,
           coalesce(sum(t.amount) filter (where t.type in ('purchase', 'subscription_grant')), 0) as credited
      from payments p left join credit_transactions t on t.payment_id = p.id
     group by p.id
    having p.credits_clawed_back + p.credits_uncollected - p.credits_reinstated
           > coalesce(sum(t.amount) filter (where t.type in ('purchase', 'subscription_grant')), 0)`,
  'a reversal is clawed back once and reinstated at most what it took': `
    select p.user_id, r.id as reversal_id, r.credits_clawed_back, r.credits_reinstated, t.amount as ledger_amount
      from payment_reversals r join payments p on p.id = r.payment_id
      left join credit_transactions t on t.id = r.clawback_transaction_id
     where (r.clawback_transaction_id is null and r.credits_clawed_back <> 0)
        or (r.clawback_transaction_id is not null and -t.amount is distinct from r.credits_clawed_back)
        or (r.reinstated_at is null and r.credits_reinstated <> 0)
        or (r.clawed_at is null and (r.credits_clawed_back <> 0 or r.credits_uncollected <> 0))`,
  'a checkout is credited at most once': `
    select user_id, metadata->>'checkoutId' as checkout_id, count(*)::int as purchases
      from credit_transactions
     where type = 'purchase' and metadata ? 'checkoutId'
     group by user_id, metadata->>'checkoutId' having count(*) > 1`,
  'an auto top-up is credited once, as its checkout sold, and only when paid': `
    select a.user_id, a.id as attempt_id, a.status, c.credits, count(t.id)::int as purchases,
           coalesce(sum(t.amount), 0)::int as credited
      from auto_top_up_attempts a
      left join checkouts c on c.id = a.checkout_id
      left join credit_transactions t
             on t.type = 'purchase' and t.user_id = a.user_id and t.metadata->>'checkoutId' = a.checkout_id::text
     group by a.id, c.credits
    having (a.status = 'succeeded' and (count(t.id) <> 1 or coalesce(sum(t.amount), 0) <> c.credits))
        or (a.status <> 'succeeded' and count(t.id) > 0)`,
  'a user has at most one live subscription': `
    select user_id, count(*)::int as live from subscriptions
     where status in ('trialing', 'active', 'past_due')
     group by user_id having count(*) > 1`,
  'a grant holds what it was given minus what left it': `
    select g.user_id, g.id as grant_id, g.amount, g.remaining, drawn.net as drawn, coalesce(-ex.amount, 0) as expired,
           coalesce(claw.amount, 0) as clawed, coalesce(back.amount, 0) as reinstated
      from credit_grants g
      left join lateral (select coalesce(sum(a.amount - a.returned), 0) as net
                           from credit_grant_allocations a where a.grant_id = g.id) drawn on true
      left join credit_transactions ex on ex.user_id = g.user_id and ex.idempotency_key = 'expire:' || g.id
      left join lateral (select sum((e->>'amount')::int) as amount
                           from credit_transactions c, jsonb_array_elements(c.metadata->'grants') e
                          where c.user_id = g.user_id and c.type = 'clawback' and e->>'id' = g.id::text) claw on true
      left join lateral (select sum((e->>'amount')::int) as amount
                           from credit_transactions r, jsonb_array_elements(r.metadata->'grants') e
                          where r.user_id = g.user_id and r.type = 'reinstatement' and e->>'id' = g.id::text) back on true
     where g.amount <> g.remaining + drawn.net + coalesce(-ex.amount, 0) + coalesce(claw.amount, 0) - coalesce(back.amount, 0)`,
  'a debit draws from grants at most what it took': `
    select t.user_id, t.id as transaction_id, t.amount, sum(a.amount)::int as drawn
      from credit_transactions t join credit_grant_allocations a on a.transaction_id = t.id
     group by t.id having sum(a.amount) > -t.amount or t.amount >= 0`,
  'a generation is refunded at most once': `
    select g.user_id, g.id as generation_id, count(t.id)::int as refunds
      from generations g join credit_transactions t on t.generation_id = g.id and t.type = 'refund'
     group by g.id having count(t.id) > 1`,
  // A refund gives back the charge, minus what the charge drew from grants that had expired or been
  // clawed back by then (forfeited, recorded on the allocations); all forfeited = no refund row.
  // Generations charged at create (before holds): a hold-less generation with a `usage` row.
  'failed and canceled generations are refunded, succeeded ones never': `
    select g.user_id, g.id as generation_id, g.status, count(t.id)::int as refunds,
           coalesce(sum(t.amount), 0)::int as refunded, forfeit.total as forfeited
      from generations g
      left join credit_transactions t on t.generation_id = g.id and t.type = 'refund'
      left join lateral (select coalesce(sum(a.forfeited), 0)::int as total
                           from credit_transactions u join credit_grant_allocations a on a.transaction_id = u.id
                          where u.generation_id = g.id and u.type = 'usage') forfeit on true
     where g.credits_charged > 0 and g.user_id is not null and g.status in ('failed', 'canceled', 'succeeded')
       and not exists (select 1 from credit_holds h where h.generation_id = g.id)
     group by g.id, forfeit.total
    having (g.status in ('failed', 'canceled')
            and (coalesce(sum(t.amount), 0) + forfeit.total <> g.credits_charged
                 or count(t.id) <> case when forfeit.total = g.credits_charged then 0 else 1 end))
        or (g.status = 'succeeded' and (count(t.id) > 0 or forfeit.total > 0))`,
  // Provider outputs are copied into our storage before a generation succeeds (providers delete theirs).
  'a succeeded generation’s outputs are stored objects': `
    select g.user_id, g.id as generation_id, e.value as image
      from generations g, jsonb_array_elements(case when jsonb_typeof(g.images) = 'array' then g.images else '[]' end) e
     where g.status = 'succeeded' and coalesce(e.value->>'objectId', '') = ''`,
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
  for (const [check, checkSql] of Object.entries(CHECKS)) {
    const rows = await sql<Record<string, unknown>>(em, checkSql);
    for (const row of rows) {
      if (options.userIds && !options.userIds.includes(String(row.user_id))) continue;
      violations.push({ check, detail: row });
    }
  }
  return violations;
}
