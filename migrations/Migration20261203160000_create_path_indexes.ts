import { Migration } from '@mikro-orm/migrations';

// generations.create's write, made cheaper inside PostgreSQL (issue 12; bench, README Performance):
//
// - Six indexes over nullable columns leave NULLs out (`where … is not null`), under the same names:
//   a new generation has no organization, project or provider prediction id yet, and a usage row
//   no order id, admin or payment, so each create skipped six of its 22 index entries. Every lookup
//   by a value — the webhooks' prediction id, an order id, ON DELETE SET NULL of the referenced row
//   — still uses them (nothing queries these columns for NULL).
// - credit_grants_drain returns at once when the user holds no live grant: one index probe instead
//   of planning-free but still costly execution of its update-and-insert statement (the executor
//   opens both tables and their indexes even when nothing is taken). Same snapshot rule as before:
//   the probe runs after the calling statement locked the balance row, so it sees every grant
//   committed before that lock (a grant is written with a posting, which takes the same lock).
const PARTIAL: [table: string, index: string, column: string][] = [
  ['generations', 'generations_organization_id_idx', 'organization_id'],
  ['generations', 'generations_project_id_idx', 'project_id'],
  ['generations', 'generations_provider_prediction_id_idx', 'provider_prediction_id'],
  ['credit_transactions', 'credit_transactions_polar_order_id_idx', 'external_order_id'],
  ['credit_transactions', 'credit_transactions_performed_by_idx', 'performed_by_id'],
  ['credit_transactions', 'credit_transactions_payment_id_idx', 'payment_id'],
];

const drainFunction = (probe: boolean) => `
create or replace function credit_grants_drain(p_user_id uuid, p_amount integer, p_transaction_id uuid) returns integer
language plpgsql volatile as $$
declare
  taken integer;
begin${
  probe
    ? `
  if not exists (select 1 from credit_grants where user_id = p_user_id and remaining > 0) then
    return 0;
  end if;`
    : ''
}
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
end $$;`;

export class Migration20261203160000_create_path_indexes extends Migration {
  override name = 'Migration20261203160000_create_path_indexes';

  override up(): void | Promise<void> {
    for (const [table, index, column] of PARTIAL) {
      this.addSql(`drop index if exists "${index}";`);
      this.addSql(`create index "${index}" on "${table}" ("${column}") where "${column}" is not null;`);
    }
    this.addSql(drainFunction(true));
  }

  override down(): void | Promise<void> {
    for (const [table, index, column] of PARTIAL) {
      this.addSql(`drop index if exists "${index}";`);
      this.addSql(`create index "${index}" on "${table}" ("${column}");`);
    }
    this.addSql(drainFunction(false));
  }
}
