import { Migration } from '@mikro-orm/migrations';

export class Migration20261203122704_billing_money extends Migration {
  override name = 'Migration20261203122704_billing_money';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "payment_reversals" ("id" uuid not null, "payment_id" uuid not null, "provider" text not null, "kind" text not null, "external_id" varchar(255) not null, "amount_cents" int not null, "status" varchar(40) not null, "credits_clawed_back" int not null default 0, "credits_uncollected" int not null default 0, "credits_reinstated" int not null default 0, "clawed_at" timestamptz null, "clawback_transaction_id" uuid null, "reinstated_at" timestamptz null, "closed_at" timestamptz null, "outcome" varchar(20) null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`create index "payment_reversals_payment_id_idx" on "payment_reversals" ("payment_id");`);
    this.addSql(
      `alter table "payment_reversals" add constraint "payment_reversals_provider_external_id_unique" unique ("provider", "external_id");`,
    );

    this.addSql(
      `create table "credit_grant_allocations" ("id" uuid not null, "user_id" uuid not null, "transaction_id" uuid null, "grant_id" uuid not null, "amount" int not null, "returned" int not null default 0, "forfeited" int not null default 0, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(
      `create index "credit_grant_allocations_user_id_idx" on "credit_grant_allocations" ("user_id");`,
    );
    this.addSql(
      `create index "credit_grant_allocations_transaction_id_idx" on "credit_grant_allocations" ("transaction_id");`,
    );
    this.addSql(
      `create index "credit_grant_allocations_grant_id_idx" on "credit_grant_allocations" ("grant_id");`,
    );

    this.addSql(
      `create table "checkouts" ("id" uuid not null, "user_id" uuid not null, "provider" text not null, "kind" text not null, "credit_package_id" uuid null, "plan_id" uuid null, "interval" text null, "item_name" varchar(120) not null, "credits" int not null, "amount_cents" int not null, "currency" varchar(3) not null, "external_checkout_id" varchar(255) null, "status" text not null default 'open', "expires_at" timestamptz not null, "completed_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`create index "checkouts_user_id_idx" on "checkouts" ("user_id");`);
    this.addSql(`create index "checkouts_credit_package_id_idx" on "checkouts" ("credit_package_id");`);
    this.addSql(`create index "checkouts_plan_id_idx" on "checkouts" ("plan_id");`);
    this.addSql(
      `alter table "checkouts" add constraint "checkouts_provider_external_checkout_id_unique" unique ("provider", "external_checkout_id");`,
    );

    this.addSql(
      `alter table "plans" add "polar_product_monthly_id" varchar(255) null, add "polar_product_yearly_id" varchar(255) null;`,
    );
    this.addSql(
      `alter table "plans" add constraint "plans_polar_product_monthly_id_unique" unique ("polar_product_monthly_id");`,
    );
    this.addSql(
      `alter table "plans" add constraint "plans_polar_product_yearly_id_unique" unique ("polar_product_yearly_id");`,
    );

    this.addSql(
      `alter table "subscriptions" add "provider_event_key" varchar(255) null, add "credits_per_period" int null, add "scheduled_plan_id" uuid null, add "scheduled_interval" text null, add "scheduled_change_at" timestamptz null;`,
    );
    this.addSql(
      `alter table "subscriptions" add constraint "subscriptions_scheduled_plan_id_foreign" foreign key ("scheduled_plan_id") references "plans" ("id") on delete set null;`,
    );
    this.addSql(
      `create index "subscriptions_scheduled_plan_id_idx" on "subscriptions" ("scheduled_plan_id");`,
    );
    // Data step: before "one live subscription per user" can hold, a user who already has several
    // (the plan-change defect) keeps the most recently updated one; the others are closed here and
    // recorded as subscription events, so an admin can cancel them at the provider.
    this.addSql(`with ranked as (
        select id, user_id, plan_id, provider, external_subscription_id,
               row_number() over (partition by user_id order by provider_updated_at desc, created_at desc) as n
          from subscriptions where status in ('trialing', 'active', 'past_due')),
      closed as (
        update subscriptions s set status = 'canceled', canceled_at = now(), cancel_at_period_end = false, updated_at = now()
          from ranked r where r.id = s.id and r.n > 1
        returning s.id, s.user_id, s.plan_id, s.provider, s.external_subscription_id)
      insert into subscription_events (id, user_id, plan_key, status, event_type, occurred_at, metadata, created_at)
      select gen_random_uuid(), c.user_id, p.key, 'canceled', 'duplicate_closed_by_migration', now(),
             jsonb_build_object('provider', c.provider, 'subscription', c.external_subscription_id,
                                'note', 'A second live subscription: cancel it at the provider'), now()
        from closed c left join plans p on p.id = c.plan_id;`);
    this.addSql(
      `create unique index "subscriptions_one_live_per_user" on "subscriptions" ("user_id") where "status" in ('trialing', 'active', 'past_due');`,
    );
    this.addSql(
      `alter table "subscriptions" add constraint "subscriptions_credits_check" check (credits_per_period is null or credits_per_period >= 0);`,
    );
    this.addSql(
      `alter table "subscriptions" add constraint "subscriptions_scheduled_interval_check" check ("scheduled_interval" in ('month', 'year'));`,
    );

    this.addSql(`alter table "payments" drop constraint "payments_status_check";`);
    this.addSql(
      `alter table "payments" add "description" text null, add "receipt_url" text null, add "payment_intent_id" varchar(255) null, add "charge_id" varchar(255) null, add "period_start" timestamptz null, add "period_end" timestamptz null, add "refunded_cents" int not null default 0, add "credits_clawed_back" int not null default 0, add "credits_reinstated" int not null default 0, add "credits_uncollected" int not null default 0;`,
    );
    // Data step: what earlier payments bought, for the payment history.
    this.addSql(`update payments p set description = cp.name from credit_packages cp
      where p.credit_package_id = cp.id and p.description is null;`);
    this.addSql(`update payments p set description = pl.name || ' plan' from subscriptions s join plans pl on pl.id = s.plan_id
      where p.subscription_id = s.id and p.description is null;`);
    this.addSql(`create index "payments_payment_intent_id_idx" on "payments" ("payment_intent_id");`);
    this.addSql(`create index "payments_charge_id_idx" on "payments" ("charge_id");`);
    this.addSql(
      `create index "payments_uncollected_idx" on "payments" ("created_at" desc, "id" desc) where credits_uncollected > 0;`,
    );
    this.addSql(
      `alter table "payments" add constraint "payments_reversals_check" check (refunded_cents >= 0 and credits_clawed_back >= 0 and credits_reinstated >= 0 and credits_uncollected >= 0);`,
    );
    this.addSql(
      `alter table "payments" add constraint "payments_status_check" check ("status" in ('pending', 'succeeded', 'failed', 'refunded', 'partially_refunded', 'disputed', 'dispute_lost'));`,
    );

    this.addSql(`alter table "credit_transactions" drop constraint "credit_transactions_type_check";`);
    this.addSql(
      `alter table "credit_transactions" add constraint "credit_transactions_type_check" check ("type" in ('signup_bonus', 'purchase', 'subscription_grant', 'usage', 'refund', 'admin_adjustment', 'expiration', 'promo', 'clawback', 'reinstatement'));`,
    );

    this.addSql(`alter table "credit_grants" add "revoked_at" timestamptz null;`);

    this.addSql(`alter table "credit_balances" add "total_clawed_back" int not null default 0;`);

    this.addSql(`alter table "audit_logs" drop constraint "audit_logs_action_check";`);
    this.addSql(
      `alter table "audit_logs" add constraint "audit_logs_action_check" check ("action" in ('user.role_set', 'user.banned', 'user.unbanned', 'user.deactivated', 'user.deleted', 'credits.adjusted', 'credits.purchased', 'credits.subscription_granted', 'credits.signup_bonus', 'credits.expired', 'credits.clawed_back', 'credits.reinstated', 'credits.upgrade_granted', 'billing.duplicate_subscription', 'plan.upserted', 'plan.archived', 'package.upserted', 'package.archived', 'settings.updated', 'retention.run'));`,
    );

    this.addSql(`alter table "webhook_events" add "rejected_at" timestamptz null;`);

    this.addSql(
      `alter table "payment_reversals" add constraint "payment_reversals_payment_id_foreign" foreign key ("payment_id") references "payments" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "payment_reversals" add constraint "payment_reversals_amounts_check" check (amount_cents >= 0 and credits_clawed_back >= 0 and credits_uncollected >= 0 and credits_reinstated >= 0 and credits_reinstated <= credits_clawed_back);`,
    );
    this.addSql(
      `alter table "payment_reversals" add constraint "payment_reversals_provider_check" check ("provider" in ('stripe', 'polar'));`,
    );
    this.addSql(
      `alter table "payment_reversals" add constraint "payment_reversals_kind_check" check ("kind" in ('refund', 'dispute'));`,
    );

    this.addSql(
      `alter table "credit_grant_allocations" add constraint "credit_grant_allocations_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "credit_grant_allocations" add constraint "credit_grant_allocations_transaction_id_foreign" foreign key ("transaction_id") references "credit_transactions" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "credit_grant_allocations" add constraint "credit_grant_allocations_grant_id_foreign" foreign key ("grant_id") references "credit_grants" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "credit_grant_allocations" add constraint "credit_grant_allocations_amounts_check" check (amount > 0 and returned >= 0 and forfeited >= 0 and returned + forfeited <= amount);`,
    );
    // Data step: what grants lost to debits before draws were recorded (neither expired nor left),
    // as one allocation without a debit, so "a grant holds what it was given" holds for old grants.
    this.addSql(`insert into credit_grant_allocations (id, user_id, transaction_id, grant_id, amount, returned, forfeited, created_at, updated_at)
      select gen_random_uuid(), g.user_id, null, g.id, g.amount - g.remaining - coalesce(-ex.amount, 0), 0, 0, now(), now()
        from credit_grants g
        left join credit_transactions ex on ex.user_id = g.user_id and ex.idempotency_key = 'expire:' || g.id
       where g.amount - g.remaining - coalesce(-ex.amount, 0) > 0;`);

    this.addSql(
      `alter table "checkouts" add constraint "checkouts_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "checkouts" add constraint "checkouts_credit_package_id_foreign" foreign key ("credit_package_id") references "credit_packages" ("id") on delete set null;`,
    );
    this.addSql(
      `alter table "checkouts" add constraint "checkouts_plan_id_foreign" foreign key ("plan_id") references "plans" ("id") on delete set null;`,
    );
    this.addSql(
      `alter table "checkouts" add constraint "checkouts_amounts_check" check (credits >= 0 and amount_cents >= 0);`,
    );
    this.addSql(
      `alter table "checkouts" add constraint "checkouts_provider_check" check ("provider" in ('stripe', 'polar', 'dev'));`,
    );
    this.addSql(
      `alter table "checkouts" add constraint "checkouts_kind_check" check ("kind" in ('credit_package', 'subscription'));`,
    );
    this.addSql(
      `alter table "checkouts" add constraint "checkouts_interval_check" check ("interval" in ('month', 'year'));`,
    );
    this.addSql(
      `alter table "checkouts" add constraint "checkouts_status_check" check ("status" in ('open', 'completed', 'expired'));`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "payment_reversals" cascade;`);
    this.addSql(`drop table if exists "credit_grant_allocations" cascade;`);
    this.addSql(`drop table if exists "checkouts" cascade;`);

    this.addSql(`alter table "subscriptions" drop constraint "subscriptions_scheduled_plan_id_foreign";`);

    this.addSql(`alter table "audit_logs" drop constraint "audit_logs_action_check";`);
    this.addSql(
      `alter table "audit_logs" add constraint "audit_logs_action_check" check ("action" in ('user.role_set', 'user.banned', 'user.unbanned', 'user.deactivated', 'user.deleted', 'credits.adjusted', 'credits.purchased', 'credits.subscription_granted', 'credits.signup_bonus', 'credits.expired', 'plan.upserted', 'plan.archived', 'package.upserted', 'package.archived', 'settings.updated', 'retention.run'));`,
    );

    this.addSql(`alter table "credit_balances" drop column "total_clawed_back";`);

    this.addSql(`alter table "credit_grants" drop column "revoked_at";`);

    this.addSql(`alter table "credit_transactions" drop constraint "credit_transactions_type_check";`);
    this.addSql(
      `alter table "credit_transactions" add constraint "credit_transactions_type_check" check ("type" in ('signup_bonus', 'purchase', 'subscription_grant', 'usage', 'refund', 'admin_adjustment', 'expiration', 'promo'));`,
    );

    this.addSql(`drop index "payments_payment_intent_id_idx";`);
    this.addSql(`drop index "payments_charge_id_idx";`);
    this.addSql(`drop index "payments_uncollected_idx";`);
    this.addSql(`alter table "payments" drop constraint "payments_reversals_check";`);
    this.addSql(`alter table "payments" drop constraint "payments_status_check";`);
    this.addSql(
      `alter table "payments" drop column "description", drop column "receipt_url", drop column "payment_intent_id", drop column "charge_id", drop column "period_start", drop column "period_end", drop column "refunded_cents", drop column "credits_clawed_back", drop column "credits_reinstated", drop column "credits_uncollected";`,
    );
    this.addSql(
      `alter table "payments" add constraint "payments_status_check" check ("status" in ('pending', 'succeeded', 'failed', 'refunded'));`,
    );

    this.addSql(`alter table "plans" drop constraint "plans_polar_product_monthly_id_unique";`);
    this.addSql(`alter table "plans" drop constraint "plans_polar_product_yearly_id_unique";`);
    this.addSql(
      `alter table "plans" drop column "polar_product_monthly_id", drop column "polar_product_yearly_id";`,
    );

    this.addSql(`drop index "subscriptions_scheduled_plan_id_idx";`);
    this.addSql(`drop index "subscriptions_one_live_per_user";`);
    this.addSql(`alter table "subscriptions" drop constraint "subscriptions_credits_check";`);
    this.addSql(`alter table "subscriptions" drop constraint "subscriptions_scheduled_interval_check";`);
    this.addSql(
      `alter table "subscriptions" drop column "provider_event_key", drop column "credits_per_period", drop column "scheduled_plan_id", drop column "scheduled_interval", drop column "scheduled_change_at";`,
    );

    this.addSql(`alter table "webhook_events" drop column "rejected_at";`);
  }
}
