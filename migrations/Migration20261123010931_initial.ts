import { Migration } from '@mikro-orm/migrations';

export class Migration20261123010931_initial extends Migration {
  override name = 'Migration20261123010931_initial';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "admin_settings" ("id" uuid not null, "feature_costs" jsonb not null, "signup_bonus" int not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`create unique index "admin_settings_singleton" on "admin_settings" ((true));`);

    this.addSql(
      `create table "users" ("id" uuid not null, "email" varchar(254) not null, "password_hash" text null, "name" varchar(120) not null, "first_name" varchar(120) null, "last_name" varchar(120) null, "avatar_url" text null, "role" text not null default 'user', "status" text not null default 'active', "email_verified_at" timestamptz null, "last_login_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`alter table "users" add constraint "users_email_unique" unique ("email");`);
    this.addSql(`create index "users_role_idx" on "users" ("role");`);
    this.addSql(`create index "users_status_idx" on "users" ("status");`);
    this.addSql(`create index "users_created_at_idx" on "users" ("created_at");`);

    this.addSql(
      `create table "sessions" ("id" varchar(64) not null, "user_id" uuid not null, "expires_at" timestamptz not null, "ip" varchar(64) null, "user_agent" varchar(512) null, "created_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`create index "sessions_user_id_idx" on "sessions" ("user_id");`);
    this.addSql(`create index "sessions_expires_at_idx" on "sessions" ("expires_at");`);

    this.addSql(
      `create table "credit_transactions" ("id" uuid not null, "user_id" uuid null, "seq" int not null, "type" text not null, "amount" int not null, "balance_after" int not null, "description" text null, "operation_type" text null, "external_order_id" varchar(256) null, "external_product_id" varchar(256) null, "performed_by_id" uuid null, "idempotency_key" varchar(200) null, "metadata" jsonb null, "created_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`create index "credit_transactions_user_id_idx" on "credit_transactions" ("user_id");`);
    this.addSql(
      `create index "credit_transactions_polar_order_id_idx" on "credit_transactions" ("external_order_id");`,
    );
    this.addSql(
      `create index "credit_transactions_performed_by_idx" on "credit_transactions" ("performed_by_id");`,
    );
    this.addSql(
      `create index "credit_transactions_user_id_created_at_idx" on "credit_transactions" ("user_id", "created_at" desc);`,
    );
    this.addSql(
      `create index "credit_transactions_type_created_at_idx" on "credit_transactions" ("type", "created_at");`,
    );
    this.addSql(
      `alter table "credit_transactions" add constraint "credit_transactions_user_id_seq_unique" unique ("user_id", "seq");`,
    );
    this.addSql(
      `alter table "credit_transactions" add constraint "credit_transactions_user_id_idempotency_key_unique" unique ("user_id", "idempotency_key");`,
    );

    this.addSql(
      `create table "credit_balances" ("id" uuid not null, "user_id" uuid not null, "balance" int not null default 0, "total_purchased" int not null default 0, "total_granted" int not null default 0, "total_used" int not null default 0, "total_refunded" int not null default 0, "ledger_seq" int not null default 0, "last_transaction_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(
      `alter table "credit_balances" add constraint "credit_balances_user_id_unique" unique ("user_id");`,
    );

    this.addSql(
      `alter table "admin_settings" add constraint "admin_settings_signup_bonus_check" check (signup_bonus >= 0);`,
    );

    this.addSql(
      `alter table "users" add constraint "users_email_lowercase_check" check (email = lower(email));`,
    );
    this.addSql(
      `alter table "users" add constraint "users_role_check" check ("role" in ('user', 'moderator', 'admin', 'super_admin'));`,
    );
    this.addSql(
      `alter table "users" add constraint "users_status_check" check ("status" in ('active', 'banned', 'deactivated'));`,
    );

    this.addSql(
      `alter table "sessions" add constraint "sessions_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );

    this.addSql(
      `alter table "credit_transactions" add constraint "credit_transactions_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete set null;`,
    );
    this.addSql(
      `alter table "credit_transactions" add constraint "credit_transactions_performed_by_id_foreign" foreign key ("performed_by_id") references "users" ("id") on delete set null;`,
    );
    this.addSql(
      `alter table "credit_transactions" add constraint "credit_transactions_amount_check" check (amount <> 0 and balance_after >= 0);`,
    );
    this.addSql(
      `alter table "credit_transactions" add constraint "credit_transactions_type_check" check ("type" in ('signup_bonus', 'purchase', 'subscription_grant', 'usage', 'refund', 'admin_adjustment', 'expiration', 'promo'));`,
    );
    this.addSql(
      `alter table "credit_transactions" add constraint "credit_transactions_operation_type_check" check ("operation_type" in ('logo_generation', 'image_generation', 'text_generation', 'code_generation'));`,
    );

    this.addSql(
      `alter table "credit_balances" add constraint "credit_balances_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "credit_balances" add constraint "credit_balances_balance_check" check (balance >= 0);`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "sessions" drop constraint "sessions_user_id_foreign";`);
    this.addSql(`alter table "credit_transactions" drop constraint "credit_transactions_user_id_foreign";`);
    this.addSql(
      `alter table "credit_transactions" drop constraint "credit_transactions_performed_by_id_foreign";`,
    );
    this.addSql(`alter table "credit_balances" drop constraint "credit_balances_user_id_foreign";`);

    this.addSql(`drop table if exists "admin_settings" cascade;`);
    this.addSql(`drop table if exists "users" cascade;`);
    this.addSql(`drop table if exists "sessions" cascade;`);
    this.addSql(`drop table if exists "credit_transactions" cascade;`);
    this.addSql(`drop table if exists "credit_balances" cascade;`);
  }
}
