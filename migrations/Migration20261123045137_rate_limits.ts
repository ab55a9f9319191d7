import { Migration } from '@mikro-orm/migrations';

export class Migration20261123045137_rate_limits extends Migration {
  override name = 'Migration20261123045137_rate_limits';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "rate_limit_windows" ("key" varchar(200) not null, "window_start" timestamptz not null, "count" int not null, "created_at" timestamptz not null, primary key ("key", "window_start"));`,
    );
    this.addSql(
      `create index "rate_limit_windows_window_start_idx" on "rate_limit_windows" ("window_start");`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "rate_limit_windows" cascade;`);
  }
}
