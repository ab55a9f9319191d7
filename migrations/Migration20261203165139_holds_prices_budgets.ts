import { Migration } from '@mikro-orm/migrations';

// Issue 16, items 1–3: credit holds, versioned feature costs, per-API-key daily budgets.
//
// - Feature costs move from admin_settings.feature_costs into feature_cost_versions: the stored
//   costs (merged over the defaults of the time, so every operation has one) become the first
//   version, effective from the settings' last change.
// - credit_grants_reserve(user, amount, hold): what credit_grants_drain does for a debit, for a hold —
//   takes `amount` from the user's grants soonest expiry first and records each part as an
//   allocation of the hold (no ledger row yet: a capture moves the allocations to its `usage` row, a
//   release gives them back). Called, like the drain, once the balance row is locked, on a fresh
//   snapshot (VOLATILE).
// - A generation is charged at most once (partial unique index on its `usage` rows). Generations of
//   before keep their usage/refund history; those still in flight settle the old way (refund).
export class Migration20261203165139_holds_prices_budgets extends Migration {
  override name = 'Migration20261203165139_holds_prices_budgets';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "feature_cost_versions" ("id" uuid not null, "costs" jsonb not null, "effective_from" timestamptz not null, "created_by_id" uuid null, "created_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(
      `create index "feature_cost_versions_effective_idx" on "feature_cost_versions" ("effective_from" desc, "created_at" desc);`,
    );

    this.addSql(
      `create table "credit_holds" ("id" uuid not null, "user_id" uuid not null, "generation_id" uuid null, "amount" int not null, "status" text not null default 'open', "api_key_id" uuid null, "transaction_id" uuid null, "created_at" timestamptz not null, "settled_at" timestamptz null, primary key ("id"));`,
    );
    this.addSql(
      `alter table "credit_holds" add constraint "credit_holds_generation_id_unique" unique ("generation_id");`,
    );
    this.addSql(
      `create index "credit_holds_user_id_created_at_idx" on "credit_holds" ("user_id", "created_at");`,
    );
    this.addSql(
      `create index "credit_holds_api_key_id_idx" on "credit_holds" ("api_key_id", "created_at") where "api_key_id" is not null;`,
    );

    this.addSql(
      `create table "api_key_daily_spend" ("api_key_id" uuid not null, "day" date not null, "credits" int not null default 0, "updated_at" timestamptz not null, primary key ("api_key_id", "day"));`,
    );

    this.addSql(`insert into "feature_cost_versions" ("id", "costs", "effective_from", "created_by_id", "created_at")
      select gen_random_uuid(),
             '{"logo_generation":1,"image_generation":2,"text_generation":1,"code_generation":5}'::jsonb
               || coalesce("feature_costs", '{}'::jsonb),
             coalesce("updated_at", "created_at", now()), null, now()
        from "admin_settings";`);
    this.addSql(`alter table "admin_settings" drop column "feature_costs";`);

    this.addSql(`alter table "generations" add "price_version_id" uuid null, add "unit_cost" int null;`);
    this.addSql(
      `alter table "generations" add constraint "generations_price_version_id_foreign" foreign key ("price_version_id") references "feature_cost_versions" ("id") on delete restrict;`,
    );
    this.addSql(
      `alter table "generations" add constraint "generations_unit_cost_check" check (unit_cost is null or (unit_cost >= 0 and credits_charged = unit_cost * output_count));`,
    );

    this.addSql(
      `create unique index "credit_transactions_generation_usage_unique" on "credit_transactions" ("generation_id") where "type" = 'usage';`,
    );

    this.addSql(`alter table "credit_balances" add "held" int not null default 0;`);
    this.addSql(
      `alter table "credit_balances" add constraint "credit_balances_held_check" check (held >= 0 and held <= balance);`,
    );

    this.addSql(`alter table "audit_logs" drop constraint "audit_logs_action_check";`);
    this.addSql(
      `alter table "audit_logs" add constraint "audit_logs_action_check" check ("action" in ('user.role_set', 'user.banned', 'user.unbanned', 'user.deactivated', 'user.deleted', 'credits.adjusted', 'credits.purchased', 'credits.subscription_granted', 'credits.signup_bonus', 'credits.expired', 'credits.clawed_back', 'credits.reinstated', 'credits.upgrade_granted', 'billing.duplicate_subscription', 'billing.auto_top_up_triggered', 'billing.auto_top_up_failed', 'plan.upserted', 'plan.archived', 'package.upserted', 'package.archived', 'settings.updated', 'feature_costs.versioned', 'retention.run'));`,
    );

    this.addSql(`alter table "api_keys" add "max_credits_per_day" int null;`);
    this.addSql(
      `alter table "api_keys" add constraint "api_keys_max_credits_per_day_check" check (max_credits_per_day > 0);`,
    );

    this.addSql(`alter table "credit_grant_allocations" add "hold_id" uuid null;`);
    this.addSql(
      `alter table "credit_grant_allocations" add constraint "credit_grant_allocations_hold_id_foreign" foreign key ("hold_id") references "credit_holds" ("id") on delete cascade;`,
    );
    this.addSql(
      `create index "credit_grant_allocations_hold_id_idx" on "credit_grant_allocations" ("hold_id");`,
    );

    this.addSql(
      `alter table "feature_cost_versions" add constraint "feature_cost_versions_created_by_id_foreign" foreign key ("created_by_id") references "users" ("id") on delete set null;`,
    );

    this.addSql(
      `alter table "credit_holds" add constraint "credit_holds_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "credit_holds" add constraint "credit_holds_generation_id_foreign" foreign key ("generation_id") references "generations" ("id") on delete set null;`,
    );
    this.addSql(
      `alter table "credit_holds" add constraint "credit_holds_api_key_id_foreign" foreign key ("api_key_id") references "api_keys" ("id") on delete set null;`,
    );
    this.addSql(
      `alter table "credit_holds" add constraint "credit_holds_transaction_id_foreign" foreign key ("transaction_id") references "credit_transactions" ("id") on delete restrict;`,
    );
    this.addSql(`alter table "credit_holds" add constraint "credit_holds_amount_check" check (amount > 0);`);
    this.addSql(
      `alter table "credit_holds" add constraint "credit_holds_settled_check" check ((status = 'open') = (settled_at is null) and (status = 'captured') = (transaction_id is not null));`,
    );
    this.addSql(
      `alter table "credit_holds" add constraint "credit_holds_status_check" check ("status" in ('open', 'captured', 'released'));`,
    );

    this.addSql(
      `alter table "api_key_daily_spend" add constraint "api_key_daily_spend_api_key_id_foreign" foreign key ("api_key_id") references "api_keys" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "api_key_daily_spend" add constraint "api_key_daily_spend_credits_check" check (credits >= 0);`,
    );

    this.addSql(`
create function credit_grants_reserve(p_user_id uuid, p_amount integer, p_hold_id uuid) returns integer
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
  reserved as (
    update credit_grants g
       set remaining = g.remaining - take.used, updated_at = now()
      from take
     where g.id = take.id and take.used > 0
    returning g.id, g.user_id, take.used),
  allocated as (
    insert into credit_grant_allocations
      (id, user_id, transaction_id, hold_id, grant_id, amount, returned, forfeited, created_at, updated_at)
    select gen_random_uuid(), user_id, null, p_hold_id, id, used, 0, 0, now(), now() from reserved
    returning amount)
  select coalesce(sum(amount), 0)::integer into taken from allocated;
  return taken;
end $$;`);
  }

  override down(): void | Promise<void> {
    this.addSql('drop function if exists credit_grants_reserve(uuid, integer, uuid);');
    this.addSql(`alter table "admin_settings" add "feature_costs" jsonb null;`);
    this.addSql(`update "admin_settings" set "feature_costs" = (select "costs" from "feature_cost_versions"
      where "effective_from" <= now() order by "effective_from" desc, "created_at" desc limit 1);`);
    this.addSql(`alter table "generations" drop constraint "generations_price_version_id_foreign";`);
    this.addSql(
      `alter table "credit_grant_allocations" drop constraint "credit_grant_allocations_hold_id_foreign";`,
    );

    this.addSql(`drop table if exists "feature_cost_versions" cascade;`);
    this.addSql(`drop table if exists "credit_holds" cascade;`);
    this.addSql(`drop table if exists "api_key_daily_spend" cascade;`);

    this.addSql(`alter table "admin_settings" alter column "feature_costs" set not null;`);

    this.addSql(`alter table "api_keys" drop constraint "api_keys_max_credits_per_day_check";`);
    this.addSql(`alter table "api_keys" drop column "max_credits_per_day";`);

    this.addSql(`alter table "audit_logs" drop constraint "audit_logs_action_check";`);
    this.addSql(
      `alter table "audit_logs" add constraint "audit_logs_action_check" check ("action" in ('user.role_set', 'user.banned', 'user.unbanned', 'user.deactivated', 'user.deleted', 'credits.adjusted', 'credits.purchased', 'credits.subscription_granted', 'credits.signup_bonus', 'credits.expired', 'credits.clawed_back', 'credits.reinstated', 'credits.upgrade_granted', 'billing.duplicate_subscription', 'billing.auto_top_up_triggered', 'billing.auto_top_up_failed', 'plan.upserted', 'plan.archived', 'package.upserted', 'package.archived', 'settings.updated', 'retention.run'));`,
    );

    this.addSql(`alter table "credit_balances" drop constraint "credit_balances_held_check";`);
    this.addSql(`alter table "credit_balances" drop column "held";`);

    this.addSql(`drop index "credit_grant_allocations_hold_id_idx";`);
    this.addSql(`alter table "credit_grant_allocations" drop column "hold_id";`);

    this.addSql(`drop index "credit_transactions_generation_usage_unique";`);

    this.addSql(`alter table "generations" drop constraint "generations_unit_cost_check";`);
    this.addSql(`alter table "generations" drop column "price_version_id", drop column "unit_cost";`);
  }
}
