// Demo data for a first start: the settings row (default feature costs and sign-up bonus) and an
// admin account whose generated password is printed once. Idempotent: it only adds what is missing.
import { randomBytes } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { DEFAULT_CREDIT_PACKAGES, DEFAULT_PLANS } from '../../shared/defaults.ts';
import type { Logger } from '../common/logger.ts';
import { CreditPackage } from '../modules/billing/credit-package.entity.ts';
import { Plan } from '../modules/billing/plan.entity.ts';
import { createAccount } from '../modules/identity/identity.service.ts';
import { User } from '../modules/identity/user.entity.ts';
import { ensureSettings } from '../modules/settings/settings.service.ts';

export const DEMO_ADMIN_EMAIL = 'admin@forgeline.local';

export type SeedResult = { admin: { email: string; password: string } | null };

export async function seedDatabase(orm: MikroORM, logger: Logger): Promise<SeedResult> {
  return orm.em.fork().transactional(async (em) => {
    await ensureSettings(em);
    await seedCatalog(em);
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

/** Default plans and credit packages, only into an empty catalog (never over an admin's edits). */
async function seedCatalog(em: EntityManager) {
  if ((await em.count(Plan, {})) === 0) {
    DEFAULT_PLANS.forEach((plan, index) => {
      em.create(Plan, { ...plan, features: [...plan.features], sortOrder: index, currency: 'usd' });
    });
  }
  if ((await em.count(CreditPackage, {})) === 0) {
    DEFAULT_CREDIT_PACKAGES.forEach((pkg, index) => {
      em.create(CreditPackage, { ...pkg, sortOrder: index, currency: 'usd' });
    });
  }
  await em.flush();
}
