import { Migration } from '@mikro-orm/migrations';

export class Migration20261123032606_billing extends Migration {
  override name = 'Migration20261123032606_billing';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "credit_packages" ("id" uuid not null, "name" varchar(120) not null, "credits" int not null, "price_cents" int not null, "currency" varchar(3) not null default 'usd', "stripe_product_id" varchar(255) null, "stripe_price_id" varchar(255) null, "polar_product_id" varchar(255) null, "active" boolean not null default true, "sort_order" int not null default 0, "metadata" jsonb null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(
      `alter table "credit_packages" add constraint "credit_packages_stripe_product_id_unique" unique ("stripe_product_id");`,
    );
    this.addSql(
      `alter table "credit_packages" add constraint "credit_packages_stripe_price_id_unique" unique ("stripe_price_id");`,
    );
    this.addSql(
      `alter table "credit_packages" add constraint "credit_packages_polar_product_id_unique" unique ("polar_product_id");`,
    );
    this.addSql(
      `create index "credit_packages_active_sort_order_idx" on "credit_packages" ("active", "sort_order");`,
    );

    this.addSql(
      `create table "plans" ("id" uuid not null, "key" varchar(40) not null, "name" varchar(120) not null, "description" text null, "credits_per_period" int not null default 0, "price_monthly_cents" int not null default 0, "price_yearly_cents" int not null default 0, "currency" varchar(3) not null default 'usd', "features" jsonb not null default '[]', "badge" varchar(40) null, "highlight" boolean not null default false, "cta_type" text not null default 'checkout', "cta_label" varchar(60) null, "cta_url" text null, "billing_source" text not null default 'manual', "external_product_id" varchar(255) null, "external_price_monthly_id" varchar(255) null, "external_price_yearly_id" varchar(255) null, "active" boolean not null default true, "sort_order" int not null default 0, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`alter table "plans" add constraint "plans_key_unique" unique ("key");`);
    this.addSql(
      `alter table "plans" add constraint "plans_external_product_id_unique" unique ("external_product_id");`,
    );
    this.addSql(
      `alter table "plans" add constraint "plans_external_price_monthly_id_unique" unique ("external_price_monthly_id");`,
    );
    this.addSql(
      `alter table "plans" add constraint "plans_external_price_yearly_id_unique" unique ("external_price_yearly_id");`,
    );
    this.addSql(`create index "plans_active_sort_order_idx" on "plans" ("active", "sort_order");`);

    this.addSql(
      `create table "subscription_events" ("id" uuid not null, "user_id" uuid not null, "plan_key" varchar(40) null, "status" text not null, "event_type" varchar(80) not null, "occurred_at" timestamptz not null, "metadata" jsonb null, "created_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(
      `create index "subscription_events_user_id_occurred_at_idx" on "subscription_events" ("user_id", "occurred_at");`,
    );

    this.addSql(
      `create table "subscriptions" ("id" uuid not null, "user_id" uuid not null, "plan_id" uuid null, "provider" text not null, "external_subscription_id" varchar(255) not null, "status" text not null, "price_id" varchar(255) null, "amount" numeric(10,2) null, "currency" varchar(3) null, "interval" text null, "interval_count" int not null default 1, "trial_start" timestamptz null, "trial_end" timestamptz null, "current_period_start" timestamptz null, "current_period_end" timestamptz null, "cancel_at_period_end" boolean not null default false, "canceled_at" timestamptz null, "provider_updated_at" timestamptz not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`create index "subscriptions_user_id_idx" on "subscriptions" ("user_id");`);
    this.addSql(`create index "subscriptions_plan_id_idx" on "subscriptions" ("plan_id");`);
    this.addSql(
      `alter table "subscriptions" add constraint "subscriptions_external_subscription_id_unique" unique ("external_subscription_id");`,
    );

    this.addSql(
      `create table "payments" ("id" uuid not null, "user_id" uuid null, "provider" text not null, "external_payment_id" varchar(255) not null, "kind" text not null, "amount_cents" int not null, "currency" varchar(3) not null, "status" text not null, "credit_package_id" uuid null, "subscription_id" uuid null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`create index "payments_credit_package_id_idx" on "payments" ("credit_package_id");`);
    this.addSql(`create index "payments_subscription_id_idx" on "payments" ("subscription_id");`);
    this.addSql(
      `create index "payments_user_id_created_at_idx" on "payments" ("user_id", "created_at" desc, "id" desc);`,
    );
    this.addSql(
      `alter table "payments" add constraint "payments_provider_external_payment_id_unique" unique ("provider", "external_payment_id");`,
    );

    this.addSql(
      `create table "customers" ("id" uuid not null, "user_id" uuid not null, "provider" text not null, "external_customer_id" varchar(255) not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(
      `alter table "customers" add constraint "customers_provider_external_customer_id_unique" unique ("provider", "external_customer_id");`,
    );
    this.addSql(
      `alter table "customers" add constraint "customers_user_id_provider_unique" unique ("user_id", "provider");`,
    );

    this.addSql(
      `create table "credit_grants" ("id" uuid not null, "user_id" uuid not null, "source_transaction_id" uuid not null, "amount" int not null, "remaining" int not null, "expires_at" timestamptz not null, "expired_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(
      `alter table "credit_grants" add constraint "credit_grants_source_transaction_id_unique" unique ("source_transaction_id");`,
    );
    this.addSql(`create index "credit_grants_live_idx" on "credit_grants" ("user_id", "expires_at", "id");`);
    this.addSql(
      `create index "credit_grants_expiring_idx" on "credit_grants" ("expires_at") where remaining > 0;`,
    );

    this.addSql(
      `create table "webhook_events" ("id" uuid not null, "provider" text not null, "event_id" varchar(255) not null, "type" varchar(120) not null, "payload" jsonb not null, "received_at" timestamptz not null, "processed_at" timestamptz null, "error" text null, "attempts" int not null default 0, primary key ("id"));`,
    );
    this.addSql(
      `create index "webhook_events_type_received_at_idx" on "webhook_events" ("type", "received_at");`,
    );
    this.addSql(
      `alter table "webhook_events" add constraint "webhook_events_provider_event_id_unique" unique ("provider", "event_id");`,
    );

    this.addSql(`alter table "credit_transactions" add "payment_id" uuid null;`);
    this.addSql(
      `alter table "credit_transactions" add constraint "credit_transactions_payment_id_foreign" foreign key ("payment_id") references "payments" ("id") on delete set null;`,
    );
    this.addSql(`create index "credit_transactions_payment_id_idx" on "credit_transactions" ("payment_id");`);

    this.addSql(
      `alter table "credit_packages" add constraint "credit_packages_amounts_check" check (credits > 0 and price_cents >= 0);`,
    );

    this.addSql(
      `alter table "plans" add constraint "plans_prices_check" check (price_monthly_cents >= 0 and price_yearly_cents >= 0);`,
    );
    this.addSql(`alter table "plans" add constraint "plans_credits_check" check (credits_per_period >= 0);`);
    this.addSql(
      `alter table "plans" add constraint "plans_cta_type_check" check ("cta_type" in ('checkout', 'contact', 'link', 'none'));`,
    );
    this.addSql(
      `alter table "plans" add constraint "plans_billing_source_check" check ("billing_source" in ('manual', 'stripe', 'polar'));`,
    );

    this.addSql(
      `alter table "subscription_events" add constraint "subscription_events_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "subscription_events" add constraint "subscription_events_status_check" check ("status" in ('trialing', 'active', 'past_due', 'unpaid', 'canceled', 'incomplete', 'paused'));`,
    );

    this.addSql(
      `alter table "subscriptions" add constraint "subscriptions_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "subscriptions" add constraint "subscriptions_plan_id_foreign" foreign key ("plan_id") references "plans" ("id") on delete set null;`,
    );
    this.addSql(
      `alter table "subscriptions" add constraint "subscriptions_provider_check" check ("provider" in ('stripe', 'polar'));`,
    );
    this.addSql(
      `alter table "subscriptions" add constraint "subscriptions_status_check" check ("status" in ('trialing', 'active', 'past_due', 'unpaid', 'canceled', 'incomplete', 'paused'));`,
    );
    this.addSql(
      `alter table "subscriptions" add constraint "subscriptions_interval_check" check ("interval" in ('month', 'year'));`,
    );

    this.addSql(
      `alter table "payments" add constraint "payments_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete set null;`,
    );
    this.addSql(
      `alter table "payments" add constraint "payments_credit_package_id_foreign" foreign key ("credit_package_id") references "credit_packages" ("id") on delete set null;`,
    );
    this.addSql(
      `alter table "payments" add constraint "payments_subscription_id_foreign" foreign key ("subscription_id") references "subscriptions" ("id") on delete set null;`,
    );
    this.addSql(
      `alter table "payments" add constraint "payments_provider_check" check ("provider" in ('stripe', 'polar'));`,
    );
    this.addSql(
      `alter table "payments" add constraint "payments_kind_check" check ("kind" in ('credit_package', 'subscription'));`,
    );
    this.addSql(
      `alter table "payments" add constraint "payments_status_check" check ("status" in ('pending', 'succeeded', 'failed', 'refunded'));`,
    );

    this.addSql(
      `alter table "customers" add constraint "customers_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "customers" add constraint "customers_provider_check" check ("provider" in ('stripe', 'polar'));`,
    );

    this.addSql(
      `alter table "credit_grants" add constraint "credit_grants_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "credit_grants" add constraint "credit_grants_source_transaction_id_foreign" foreign key ("source_transaction_id") references "credit_transactions" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "credit_grants" add constraint "credit_grants_remaining_check" check (remaining >= 0 and remaining <= amount);`,
    );

    this.addSql(
      `alter table "webhook_events" add constraint "webhook_events_provider_check" check ("provider" in ('stripe', 'polar'));`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "payments" drop constraint "payments_credit_package_id_foreign";`);
    this.addSql(`alter table "subscriptions" drop constraint "subscriptions_plan_id_foreign";`);
    this.addSql(`alter table "payments" drop constraint "payments_subscription_id_foreign";`);
    this.addSql(
      `alter table "credit_transactions" drop constraint "credit_transactions_payment_id_foreign";`,
    );

    this.addSql(`drop table if exists "credit_packages" cascade;`);
    this.addSql(`drop table if exists "plans" cascade;`);
    this.addSql(`drop table if exists "subscription_events" cascade;`);
    this.addSql(`drop table if exists "subscriptions" cascade;`);
    this.addSql(`drop table if exists "payments" cascade;`);
    this.addSql(`drop table if exists "customers" cascade;`);
    this.addSql(`drop table if exists "credit_grants" cascade;`);
    this.addSql(`drop table if exists "webhook_events" cascade;`);

    this.addSql(`drop index "credit_transactions_payment_id_idx";`);
    this.addSql(`alter table "credit_transactions" drop column "payment_id";`);
  }
}
