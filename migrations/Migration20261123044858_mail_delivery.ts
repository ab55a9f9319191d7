import { Migration } from '@mikro-orm/migrations';

export class Migration20261123044858_mail_delivery extends Migration {
  override name = 'Migration20261123044858_mail_delivery';

  override up(): void | Promise<void> {
    this.addSql(
      `alter table "mail_outbox" add "attempts" int not null default 0, add "next_attempt_at" timestamptz null;`,
    );
    this.addSql(
      `create index "mail_outbox_pending_idx" on "mail_outbox" ("next_attempt_at") where "sent_at" is null and "next_attempt_at" is not null;`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "mail_outbox_pending_idx";`);
    this.addSql(`alter table "mail_outbox" drop column "attempts", drop column "next_attempt_at";`);
  }
}
