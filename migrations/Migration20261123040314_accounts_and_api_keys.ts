import { Migration } from '@mikro-orm/migrations';

export class Migration20261123040314_accounts_and_api_keys extends Migration {
  override name = 'Migration20261123040314_accounts_and_api_keys';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "mail_outbox" ("id" uuid not null, "to" varchar(254) not null, "subject" varchar(200) not null, "body" text not null, "sent_at" timestamptz null, "error" text null, "created_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`create index "mail_outbox_to_idx" on "mail_outbox" ("to");`);

    this.addSql(
      `create table "auth_tokens" ("id" uuid not null, "user_id" uuid not null, "purpose" text not null, "token_hash" varchar(64) not null, "expires_at" timestamptz not null, "used_at" timestamptz null, "created_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`create index "auth_tokens_user_id_idx" on "auth_tokens" ("user_id");`);
    this.addSql(
      `alter table "auth_tokens" add constraint "auth_tokens_token_hash_unique" unique ("token_hash");`,
    );
    this.addSql(`create index "auth_tokens_expires_at_idx" on "auth_tokens" ("expires_at");`);

    this.addSql(
      `create table "api_keys" ("id" uuid not null, "user_id" uuid not null, "organization_id" uuid null, "name" varchar(80) not null, "prefix" varchar(16) not null, "hash" varchar(64) not null, "scopes" text[] not null, "last_used_at" timestamptz null, "expires_at" timestamptz null, "revoked_at" timestamptz null, "created_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`create index "api_keys_user_id_idx" on "api_keys" ("user_id");`);
    this.addSql(`alter table "api_keys" add constraint "api_keys_hash_unique" unique ("hash");`);

    this.addSql(
      `alter table "auth_tokens" add constraint "auth_tokens_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "auth_tokens" add constraint "auth_tokens_purpose_check" check ("purpose" in ('email_verification', 'password_reset', 'account_activation'));`,
    );

    this.addSql(
      `alter table "api_keys" add constraint "api_keys_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "mail_outbox" cascade;`);
    this.addSql(`drop table if exists "auth_tokens" cascade;`);
    this.addSql(`drop table if exists "api_keys" cascade;`);
  }
}
