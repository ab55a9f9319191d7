import { Migration } from '@mikro-orm/migrations';

export class Migration20261203120627_oauth_accounts extends Migration {
  override name = 'Migration20261203120627_oauth_accounts';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "oauth_accounts" ("id" uuid not null, "provider" text not null, "provider_account_id" varchar(255) not null, "user_id" uuid not null, "email" varchar(254) null, "username" varchar(255) null, "last_used_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(
      `alter table "oauth_accounts" add constraint "oauth_accounts_provider_account_unique" unique ("provider", "provider_account_id");`,
    );
    this.addSql(
      `alter table "oauth_accounts" add constraint "oauth_accounts_user_id_provider_unique" unique ("user_id", "provider");`,
    );

    this.addSql(
      `alter table "oauth_accounts" add constraint "oauth_accounts_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "oauth_accounts" add constraint "oauth_accounts_provider_check" check ("provider" in ('github', 'google'));`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "oauth_accounts" cascade;`);
  }
}
