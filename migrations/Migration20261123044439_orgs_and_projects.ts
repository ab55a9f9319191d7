import { Migration } from '@mikro-orm/migrations';

export class Migration20261123044439_orgs_and_projects extends Migration {
  override name = 'Migration20261123044439_orgs_and_projects';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "organizations" ("id" uuid not null, "name" varchar(120) not null, "slug" varchar(64) not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`alter table "organizations" add constraint "organizations_slug_unique" unique ("slug");`);

    this.addSql(
      `create table "features" ("id" uuid not null, "organization_id" uuid not null, "name" varchar(120) not null, "description" text null, "tags" text[] not null default '{}', "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`create index "features_workspace_id_idx" on "features" ("organization_id");`);
    this.addSql(`create index "features_name_idx" on "features" ("name");`);
    this.addSql(`create index "features_tags_gin_idx" on "features" using gin ("tags");`);

    this.addSql(
      `create table "projects" ("id" uuid not null, "user_id" uuid not null, "organization_id" uuid null, "name" varchar(120) not null, "description" text null, "template" text not null, "status" text not null default 'draft', "config" jsonb not null default '{}', "features" text[] not null default '{}', "generated_path" text null, "repository_url" text null, "deployment_url" text null, "deployed_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`create index "projects_user_id_idx" on "projects" ("user_id");`);
    this.addSql(`create index "projects_organization_id_idx" on "projects" ("organization_id");`);
    this.addSql(`create index "projects_status_idx" on "projects" ("status");`);

    this.addSql(
      `create table "deployments" ("id" uuid not null, "project_id" uuid not null, "status" text not null default 'queued', "url" text null, "log" text null, "started_at" timestamptz null, "finished_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`create index "deployments_status_idx" on "deployments" ("status");`);
    this.addSql(
      `create index "deployments_project_id_created_at_idx" on "deployments" ("project_id", "created_at" desc);`,
    );

    this.addSql(
      `create table "memberships" ("id" uuid not null, "organization_id" uuid not null, "user_id" uuid not null, "role" text not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`create index "memberships_user_id_idx" on "memberships" ("user_id");`);
    this.addSql(
      `alter table "memberships" add constraint "memberships_organization_id_user_id_unique" unique ("organization_id", "user_id");`,
    );

    this.addSql(
      `create table "invitations" ("id" uuid not null, "organization_id" uuid not null, "email" varchar(254) not null, "role" text not null, "token_hash" varchar(64) not null, "invited_by_id" uuid null, "expires_at" timestamptz not null, "accepted_at" timestamptz null, "revoked_at" timestamptz null, "created_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`create index "invitations_organization_id_idx" on "invitations" ("organization_id");`);
    this.addSql(`create index "invitations_email_idx" on "invitations" ("email");`);
    this.addSql(
      `alter table "invitations" add constraint "invitations_token_hash_unique" unique ("token_hash");`,
    );
    this.addSql(`create index "invitations_invited_by_id_idx" on "invitations" ("invited_by_id");`);

    this.addSql(`alter table "users" add "default_organization_id" uuid null;`);
    this.addSql(
      `alter table "users" add constraint "users_default_organization_id_foreign" foreign key ("default_organization_id") references "organizations" ("id") on delete set null;`,
    );
    this.addSql(`create index "users_default_organization_id_idx" on "users" ("default_organization_id");`);

    this.addSql(
      `alter table "generations" add constraint "generations_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on delete set null;`,
    );
    this.addSql(
      `alter table "generations" add constraint "generations_project_id_foreign" foreign key ("project_id") references "projects" ("id") on delete set null;`,
    );

    this.addSql(
      `alter table "api_keys" add constraint "api_keys_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on delete cascade;`,
    );
    this.addSql(`create index "api_keys_organization_id_idx" on "api_keys" ("organization_id");`);

    this.addSql(
      `alter table "organizations" add constraint "organizations_slug_check" check (slug ~ '^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$');`,
    );

    this.addSql(
      `alter table "features" add constraint "features_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on delete cascade;`,
    );

    this.addSql(
      `alter table "projects" add constraint "projects_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "projects" add constraint "projects_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "projects" add constraint "projects_template_check" check ("template" in ('saas', 'ecommerce', 'blog', 'api', 'custom'));`,
    );
    this.addSql(
      `alter table "projects" add constraint "projects_status_check" check ("status" in ('draft', 'generating', 'ready', 'deploying', 'deployed', 'error'));`,
    );

    this.addSql(
      `alter table "deployments" add constraint "deployments_project_id_foreign" foreign key ("project_id") references "projects" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "deployments" add constraint "deployments_status_check" check ("status" in ('queued', 'building', 'deployed', 'failed'));`,
    );

    this.addSql(
      `alter table "memberships" add constraint "memberships_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "memberships" add constraint "memberships_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "memberships" add constraint "memberships_role_check" check ("role" in ('owner', 'admin', 'member'));`,
    );

    this.addSql(
      `alter table "invitations" add constraint "invitations_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "invitations" add constraint "invitations_invited_by_id_foreign" foreign key ("invited_by_id") references "users" ("id") on delete set null;`,
    );
    this.addSql(
      `alter table "invitations" add constraint "invitations_role_check" check ("role" in ('owner', 'admin', 'member'));`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "features" drop constraint "features_organization_id_foreign";`);
    this.addSql(`alter table "users" drop constraint "users_default_organization_id_foreign";`);
    this.addSql(`alter table "projects" drop constraint "projects_organization_id_foreign";`);
    this.addSql(`alter table "memberships" drop constraint "memberships_organization_id_foreign";`);
    this.addSql(`alter table "invitations" drop constraint "invitations_organization_id_foreign";`);
    this.addSql(`alter table "generations" drop constraint "generations_organization_id_foreign";`);
    this.addSql(`alter table "api_keys" drop constraint "api_keys_organization_id_foreign";`);
    this.addSql(`alter table "deployments" drop constraint "deployments_project_id_foreign";`);
    this.addSql(`alter table "generations" drop constraint "generations_project_id_foreign";`);

    this.addSql(`drop table if exists "organizations" cascade;`);
    this.addSql(`drop table if exists "features" cascade;`);
    this.addSql(`drop table if exists "projects" cascade;`);
    this.addSql(`drop table if exists "deployments" cascade;`);
    this.addSql(`drop table if exists "memberships" cascade;`);
    this.addSql(`drop table if exists "invitations" cascade;`);

    this.addSql(`drop index "api_keys_organization_id_idx";`);

    this.addSql(`drop index "users_default_organization_id_idx";`);
    this.addSql(`alter table "users" drop column "default_organization_id";`);
  }
}
