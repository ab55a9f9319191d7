// The admin settings singleton: read by credits (feature costs) and identity (sign-up bonus).
import { randomBytes } from 'node:crypto';
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
    `insert into admin_settings (id, feature_costs, signup_bonus, signing_secret, created_at, updated_at)
     values (gen_random_uuid(), ?::jsonb, ?, ?, now(), now()) on conflict do nothing`,
    [JSON.stringify(DEFAULT_FEATURE_COSTS), DEFAULT_SIGNUP_BONUS, randomBytes(32).toString('hex')],
    'run',
    em.getTransactionContext(),
  );
}

let signingSecret: Promise<string> | undefined;
/** The HMAC key for signed links; read once per process (it never changes). */
export function getSigningSecret(em: EntityManager): Promise<string> {
  signingSecret ??= em
    .getConnection()
    .execute<{ signing_secret: string }[]>('select signing_secret from admin_settings limit 1')
    .then((rows) => {
      const secret = rows[0]?.signing_secret;
      if (!secret) throw new Error('admin_settings has no signing secret: run the seed (npm run db:seed)');
      return secret;
    })
    .catch((error: unknown) => {
      signingSecret = undefined;
      throw error;
    });
  return signingSecret;
}
