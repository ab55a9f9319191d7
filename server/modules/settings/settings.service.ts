// The admin settings singleton: read by credits (feature costs) and identity (sign-up bonus).
import type { EntityManager } from '@mikro-orm/postgresql';
import { DEFAULT_FEATURE_COSTS, DEFAULT_SIGNUP_BONUS } from '../../../shared/defaults.ts';
import { AdminSettings } from './admin-settings.entity.ts';

export type SettingsDto = { featureCosts: typeof DEFAULT_FEATURE_COSTS; signupBonus: number };

/** The stored settings, or the defaults from shared/ when the row was never written. */
export async function getSettings(em: EntityManager): Promise<SettingsDto> {
  const [row] = await em.findAll(AdminSettings, { limit: 1, disableIdentityMap: true });
  return {
    featureCosts: { ...DEFAULT_FEATURE_COSTS, ...row?.featureCosts },
    signupBonus: row?.signupBonus ?? DEFAULT_SIGNUP_BONUS,
  };
}

/** Writes the default settings row once; a no-op when it exists. */
export async function ensureSettings(em: EntityManager): Promise<void> {
  await em.getConnection().execute(
    `insert into admin_settings (id, feature_costs, signup_bonus, created_at, updated_at)
     values (gen_random_uuid(), ?::jsonb, ?, now(), now()) on conflict do nothing`,
    [JSON.stringify(DEFAULT_FEATURE_COSTS), DEFAULT_SIGNUP_BONUS],
    'run',
    em.getTransactionContext(),
  );
}
