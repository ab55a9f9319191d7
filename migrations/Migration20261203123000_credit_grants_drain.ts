import { Migration } from '@mikro-orm/migrations';

// credit_grants_drain(user, amount, transaction): takes `amount` credits from the user's live grants,
// soonest expiry first (expired-but-unswept ones too), records what it took from each grant for that
// ledger row (credit_grant_allocations: a refund returns it there), and returns how many it took —
// what credits.service.ts's CONSUME_GRANTS statement did, inside the posting statement. The ledger's posting
// statement calls it right after moving — and so locking — the user's balance row. Being VOLATILE,
// its statement runs on a fresh snapshot: it sees every grant committed before that lock was
// granted, including one committed after the calling statement began (a plain CTE in the posting
// statement would not, and would drain from a stale view of the grants).
export class Migration20261203123000_credit_grants_drain extends Migration {
  override name = 'Migration20261203123000_credit_grants_drain';

  override up(): void | Promise<void> {
    this.addSql(`
create function credit_grants_drain(p_user_id uuid, p_amount integer, p_transaction_id uuid) returns integer
language plpgsql volatile as $$
declare
  taken integer;
begin
  with live as (
    select id, remaining,
           sum(remaining) over (order by expires_at, id) - remaining as before
      from credit_grants
     where user_id = p_user_id and remaining > 0
     order by expires_at, id),
  take as (select id, least(remaining, greatest(0, p_amount - before)) as used from live),
  drained as (
    update credit_grants g
       set remaining = g.remaining - take.used, updated_at = now()
      from take
     where g.id = take.id and take.used > 0
    returning g.id, g.user_id, take.used),
  allocated as (
    insert into credit_grant_allocations
      (id, user_id, transaction_id, grant_id, amount, returned, forfeited, created_at, updated_at)
    select gen_random_uuid(), user_id, p_transaction_id, id, used, 0, 0, now(), now() from drained
    returning amount)
  select coalesce(sum(amount), 0)::integer into taken from allocated;
  return taken;
end $$;`);
  }

  override down(): void | Promise<void> {
    this.addSql('drop function if exists credit_grants_drain(uuid, integer, uuid);');
  }
}
