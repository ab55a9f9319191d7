// Demo data for a first start: the settings row (default feature costs and sign-up bonus) and an
// admin account whose generated password is printed once. Idempotent: it only adds what is missing.
import { randomBytes } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../common/logger.ts';
import { createAccount } from '../modules/identity/identity.service.ts';
import { User } from '../modules/identity/user.entity.ts';
import { ensureSettings } from '../modules/settings/settings.service.ts';

export const DEMO_ADMIN_EMAIL = 'admin@forgeline.local';

export type SeedResult = { admin: { email: string; password: string } | null };

export async function seedDatabase(orm: MikroORM, logger: Logger): Promise<SeedResult> {
  return orm.em.fork().transactional(async (em) => {
    await ensureSettings(em);
    const hasAdmin = await em.count(User, { role: { $in: ['admin', 'super_admin'] } });
    if (hasAdmin) return { admin: null };
    const password = randomBytes(12).toString('base64url');
    await createAccount(em, {
      email: DEMO_ADMIN_EMAIL,
      password,
      name: 'Forgeline Admin',
      role: 'super_admin',
    });
    logger.info({ email: DEMO_ADMIN_EMAIL }, 'created the demo admin account');
    return { admin: { email: DEMO_ADMIN_EMAIL, password } };
  });
}
