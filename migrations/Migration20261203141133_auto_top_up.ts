import { Migration } from '@mikro-orm/migrations';

export class Migration20261203141133_auto_top_up extends Migration {
  override name = 'Migration20261203141133_auto_top_up';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "auto_top_up_attempts" ("id" uuid not null, "user_id" uuid not null, "checkout_id" uuid null, "status" text not null default 'pending', "threshold" int not null, "balance" int not null, "payment_intent_id" varchar(255) null, "error" text null, "completed_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(
      `alter table "auto_top_up_attempts" add constraint "auto_top_up_attempts_checkout_id_unique" unique ("checkout_id");`,
    );
    this.addSql(
      `create index "auto_top_up_attempts_payment_intent_id_idx" on "auto_top_up_attempts" ("payment_intent_id");`,
    );
    this.addSql(
      `create index "auto_top_up_attempts_user_id_created_at_idx" on "auto_top_up_attempts" ("user_id", "created_at" desc);`,
    );
    this.addSql(
      `create unique index "auto_top_up_attempts_one_open_per_user" on "auto_top_up_attempts" ("user_id") where "status" in ('pending', 'processing');`,
    );

    this.addSql(
      `create table "auto_top_ups" ("id" uuid not null, "user_id" uuid not null, "credit_package_id" uuid not null, "threshold" int not null, "enabled" boolean not null default true, "armed" boolean not null default true, "checked_seq" int not null default 0, "payment_method_label" varchar(120) null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(
      `alter table "auto_top_ups" add constraint "auto_top_ups_user_id_unique" unique ("user_id");`,
    );
    this.addSql(`create index "auto_top_ups_credit_package_id_idx" on "auto_top_ups" ("credit_package_id");`);

    this.addSql(`alter table "audit_logs" drop constraint "audit_logs_action_check";`);
    this.addSql(
      `alter table "audit_logs" add constraint "audit_logs_action_check" check ("action" in ('user.role_set', 'user.banned', 'user.unbanned', 'user.deactivated', 'user.deleted', 'credits.adjusted', 'credits.purchased', 'credits.subscription_granted', 'credits.signup_bonus', 'credits.expired', 'credits.clawed_back', 'credits.reinstated', 'credits.upgrade_granted', 'billing.duplicate_subscription', 'billing.auto_top_up_triggered', 'billing.auto_top_up_failed', 'plan.upserted', 'plan.archived', 'package.upserted', 'package.archived', 'settings.updated', 'retention.run'));`,
    );

    this.addSql(
      `alter table "auto_top_up_attempts" add constraint "auto_top_up_attempts_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "auto_top_up_attempts" add constraint "auto_top_up_attempts_checkout_id_foreign" foreign key ("checkout_id") references "checkouts" ("id") on delete set null;`,
    );
    this.addSql(
      `alter table "auto_top_up_attempts" add constraint "auto_top_up_attempts_status_check" check ("status" in ('pending', 'processing', 'succeeded', 'failed'));`,
    );

    this.addSql(
      `alter table "auto_top_ups" add constraint "auto_top_ups_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "auto_top_ups" add constraint "auto_top_ups_credit_package_id_foreign" foreign key ("credit_package_id") references "credit_packages" ("id") on delete restrict;`,
    );
    this.addSql(
      `alter table "auto_top_ups" add constraint "auto_top_ups_threshold_check" check (threshold > 0 and checked_seq >= 0);`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "auto_top_up_attempts" cascade;`);
    this.addSql(`drop table if exists "auto_top_ups" cascade;`);

    this.addSql(`alter table "audit_logs" drop constraint "audit_logs_action_check";`);
    this.addSql(
      `alter table "audit_logs" add constraint "audit_logs_action_check" check ("action" in ('user.role_set', 'user.banned', 'user.unbanned', 'user.deactivated', 'user.deleted', 'credits.adjusted', 'credits.purchased', 'credits.subscription_granted', 'credits.signup_bonus', 'credits.expired', 'credits.clawed_back', 'credits.reinstated', 'credits.upgrade_granted', 'billing.duplicate_subscription', 'plan.upserted', 'plan.archived', 'package.upserted', 'package.archived', 'settings.updated', 'retention.run'));`,
    );
  }
}
