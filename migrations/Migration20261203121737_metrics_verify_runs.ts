import { Migration } from '@mikro-orm/migrations';

export class Migration20261203121737_metrics_verify_runs extends Migration {
  override name = 'Migration20261203121737_metrics_verify_runs';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "verify_runs" ("id" uuid not null, "source" text not null, "duration_ms" int not null, "violations" int not null, "by_check" jsonb not null, "drift" bigint not null, "created_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`create index "verify_runs_created_at_idx" on "verify_runs" ("created_at");`);

    this.addSql(
      `create index "webhook_events_unprocessed_idx" on "webhook_events" ("provider", "received_at") where "processed_at" is null;`,
    );

    this.addSql(
      `alter table "verify_runs" add constraint "verify_runs_source_check" check ("source" in ('job', 'cli'));`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "verify_runs" cascade;`);

    this.addSql(`drop index "webhook_events_unprocessed_idx";`);
  }
}
