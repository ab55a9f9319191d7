import { Migration } from '@mikro-orm/migrations';

// Names only: the generations indexes kept the `logo_generations_` prefix of the table's first name,
// and the ledger's index on generation_id its `logo_generation_id` column name. Renaming an index
// rewrites nothing (no rebuild, no lock beyond a moment's ACCESS EXCLUSIVE on the catalog entry).
export class Migration20261203154231_rename_generation_indexes extends Migration {
  override name = 'Migration20261203154231_rename_generation_indexes';

  override up(): void | Promise<void> {
    this.addSql(
      `alter index "logo_generations_user_id_created_at_idx" rename to "generations_user_id_created_at_idx";`,
    );
    this.addSql(`alter index "logo_generations_status_idx" rename to "generations_status_idx";`);
    this.addSql(
      `alter index "logo_generations_provider_prediction_id_idx" rename to "generations_provider_prediction_id_idx";`,
    );
    this.addSql(`alter index "logo_generations_created_at_idx" rename to "generations_created_at_idx";`);
    this.addSql(
      `alter index "credit_transactions_logo_generation_id_idx" rename to "credit_transactions_generation_id_idx";`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(
      `alter index "credit_transactions_generation_id_idx" rename to "credit_transactions_logo_generation_id_idx";`,
    );
    this.addSql(`alter index "generations_created_at_idx" rename to "logo_generations_created_at_idx";`);
    this.addSql(
      `alter index "generations_provider_prediction_id_idx" rename to "logo_generations_provider_prediction_id_idx";`,
    );
    this.addSql(`alter index "generations_status_idx" rename to "logo_generations_status_idx";`);
    this.addSql(
      `alter index "generations_user_id_created_at_idx" rename to "logo_generations_user_id_created_at_idx";`,
    );
  }
}
