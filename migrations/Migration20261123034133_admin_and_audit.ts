import { Migration } from '@mikro-orm/migrations';

export class Migration20261123034133_admin_and_audit extends Migration {
  override name = 'Migration20261123034133_admin_and_audit';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "audit_logs" ("id" uuid not null, "actor_id" uuid null, "actor_api_key_id" uuid null, "action" text not null, "target_type" varchar(40) not null, "target_id" varchar(100) null, "metadata" jsonb null, "ip" varchar(64) null, "created_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`create index "audit_logs_actor_id_idx" on "audit_logs" ("actor_id");`);
    this.addSql(`create index "audit_logs_created_at_idx" on "audit_logs" ("created_at" desc, "id" desc);`);
    this.addSql(`create index "audit_logs_target_idx" on "audit_logs" ("target_type", "target_id");`);
    this.addSql(`create index "audit_logs_action_created_at_idx" on "audit_logs" ("action", "created_at");`);

    // Trigram search for admin.users.list (substring, case-insensitive); ships with PostgreSQL.
    this.addSql('create extension if not exists pg_trgm;');
    this.addSql(
      `create index "users_search_trgm_idx" on "users" using gin ((lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || name || ' ' || email)) gin_trgm_ops);`,
    );

    this.addSql(
      `alter table "audit_logs" add constraint "audit_logs_actor_id_foreign" foreign key ("actor_id") references "users" ("id") on delete set null;`,
    );
    this.addSql(
      `alter table "audit_logs" add constraint "audit_logs_action_check" check ("action" in ('user.role_set', 'user.banned', 'user.unbanned', 'user.deactivated', 'user.deleted', 'credits.adjusted', 'credits.purchased', 'credits.subscription_granted', 'plan.upserted', 'plan.archived', 'package.upserted', 'package.archived', 'settings.updated', 'retention.run'));`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "audit_logs" cascade;`);

    this.addSql(`drop index "users_search_trgm_idx";`);
  }
}
