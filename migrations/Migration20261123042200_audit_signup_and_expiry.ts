import { Migration } from '@mikro-orm/migrations';

export class Migration20261123042200_audit_signup_and_expiry extends Migration {
  override name = 'Migration20261123042200_audit_signup_and_expiry';

  override up(): void | Promise<void> {
    this.addSql(`alter table "audit_logs" drop constraint "audit_logs_action_check";`);
    this.addSql(
      `alter table "audit_logs" add constraint "audit_logs_action_check" check ("action" in ('user.role_set', 'user.banned', 'user.unbanned', 'user.deactivated', 'user.deleted', 'credits.adjusted', 'credits.purchased', 'credits.subscription_granted', 'credits.signup_bonus', 'credits.expired', 'plan.upserted', 'plan.archived', 'package.upserted', 'package.archived', 'settings.updated', 'retention.run'));`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "audit_logs" drop constraint "audit_logs_action_check";`);
    this.addSql(
      `alter table "audit_logs" add constraint "audit_logs_action_check" check ("action" in ('user.role_set', 'user.banned', 'user.unbanned', 'user.deactivated', 'user.deleted', 'credits.adjusted', 'credits.purchased', 'credits.subscription_granted', 'plan.upserted', 'plan.archived', 'package.upserted', 'package.archived', 'settings.updated', 'retention.run'));`,
    );
  }
}
