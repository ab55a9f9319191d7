import { Migration } from '@mikro-orm/migrations';

export class Migration20261123011814_generations_and_storage extends Migration {
  override name = 'Migration20261123011814_generations_and_storage';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "storage_objects" ("id" uuid not null, "user_id" uuid not null, "provider" text not null, "key" varchar(512) not null, "url" text not null, "name" varchar(255) not null, "content_type" varchar(128) not null, "size" int not null, "sha256" varchar(64) not null, "deleted_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`alter table "storage_objects" add constraint "storage_objects_key_unique" unique ("key");`);
    this.addSql(`create index "storage_objects_deleted_at_idx" on "storage_objects" ("deleted_at");`);
    this.addSql(
      `create index "storage_objects_user_id_created_at_idx" on "storage_objects" ("user_id", "created_at" desc, "id" desc);`,
    );

    this.addSql(
      `create table "generations" ("id" uuid not null, "user_id" uuid null, "organization_id" uuid null, "project_id" uuid null, "kind" text not null, "agent_type" text null, "input" jsonb not null, "prompt" text null, "provider" varchar(32) not null, "model" varchar(64) null, "output_count" int not null, "credits_charged" int not null, "status" text not null default 'queued', "provider_prediction_id" varchar(128) null, "images" jsonb null, "response" text null, "provider_response" jsonb null, "error" text null, "tokens_used" int null, "duration_ms" int null, "attempts" int not null default 0, "idempotency_key" varchar(200) null, "started_at" timestamptz null, "completed_at" timestamptz null, "deleted_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`create index "generations_organization_id_idx" on "generations" ("organization_id");`);
    this.addSql(`create index "generations_project_id_idx" on "generations" ("project_id");`);
    this.addSql(`create index "logo_generations_status_idx" on "generations" ("status");`);
    this.addSql(
      `create index "logo_generations_provider_prediction_id_idx" on "generations" ("provider_prediction_id");`,
    );
    this.addSql(`create index "logo_generations_created_at_idx" on "generations" ("created_at");`);
    this.addSql(
      `create index "logo_generations_user_id_created_at_idx" on "generations" ("user_id", "created_at" desc, "id" desc);`,
    );
    this.addSql(
      `alter table "generations" add constraint "generations_user_id_idempotency_key_unique" unique ("user_id", "idempotency_key");`,
    );

    // Existing settings rows get a fresh random secret (gen_random_uuid is a CSPRNG in PostgreSQL 13+).
    this.addSql(
      `alter table "admin_settings" add "signing_secret" varchar(128) not null default replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');`,
    );
    this.addSql(`alter table "admin_settings" alter column "signing_secret" drop default;`);

    this.addSql(`alter table "credit_transactions" add "generation_id" uuid null;`);
    this.addSql(
      `alter table "credit_transactions" add constraint "credit_transactions_generation_id_foreign" foreign key ("generation_id") references "generations" ("id") on delete set null;`,
    );
    this.addSql(
      `create index "credit_transactions_logo_generation_id_idx" on "credit_transactions" ("generation_id");`,
    );
    this.addSql(
      `create unique index "credit_transactions_generation_refund_unique" on "credit_transactions" ("generation_id") where "type" = 'refund';`,
    );

    this.addSql(
      `alter table "storage_objects" add constraint "storage_objects_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "storage_objects" add constraint "storage_objects_size_check" check (size >= 0);`,
    );
    this.addSql(
      `alter table "storage_objects" add constraint "storage_objects_provider_check" check ("provider" in ('local', 's3'));`,
    );

    this.addSql(
      `alter table "generations" add constraint "generations_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete set null;`,
    );
    this.addSql(
      `alter table "generations" add constraint "generations_output_count_check" check (output_count between 1 and 8);`,
    );
    this.addSql(
      `alter table "generations" add constraint "generations_credits_charged_check" check (credits_charged >= 0);`,
    );
    this.addSql(
      `alter table "generations" add constraint "generations_kind_check" check ("kind" in ('logo', 'image', 'text', 'code'));`,
    );
    this.addSql(
      `alter table "generations" add constraint "generations_agent_type_check" check ("agent_type" in ('orchestrator', 'backend', 'frontend', 'database', 'auth', 'integrations', 'devops'));`,
    );
    this.addSql(
      `alter table "generations" add constraint "generations_status_check" check ("status" in ('queued', 'running', 'succeeded', 'failed', 'canceled'));`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(
      `alter table "credit_transactions" drop constraint "credit_transactions_generation_id_foreign";`,
    );

    this.addSql(`drop table if exists "storage_objects" cascade;`);
    this.addSql(`drop table if exists "generations" cascade;`);

    this.addSql(`alter table "admin_settings" drop column "signing_secret";`);

    this.addSql(`drop index "credit_transactions_logo_generation_id_idx";`);
    this.addSql(`drop index "credit_transactions_generation_refund_unique";`);
    this.addSql(`alter table "credit_transactions" drop column "generation_id";`);
  }
}
