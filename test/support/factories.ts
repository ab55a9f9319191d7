// Factories return plain objects (ids and fields), never managed entities.
import { randomBytes } from 'node:crypto';
import { CreditPackage } from '../../server/modules/billing/credit-package.entity.ts';
import { Plan } from '../../server/modules/billing/plan.entity.ts';
import * as credits from '../../server/modules/credits/credits.service.ts';
import { createAccount } from '../../server/modules/identity/identity.service.ts';
import type { UserRole } from '../../shared/schemas/identity.ts';
import type { TestDatabase } from './database.ts';

export type TestUser = {
  id: string;
  email: string;
  name: string;
  role: UserRole;
  status: 'active' | 'banned' | 'deactivated';
  password: string;
};

export const uniqueEmail = (prefix = 'user') => `${prefix}-${randomBytes(5).toString('hex')}@example.test`;

/** A user with the sign-up bonus, then adjusted to exactly `credits` when given. */
export async function createUser(
  db: TestDatabase,
  options: { credits?: number; role?: UserRole; email?: string; password?: string; name?: string } = {},
): Promise<TestUser> {
  const password = options.password ?? 'correct horse battery staple';
  return db.orm.em.fork().transactional(async (em) => {
    const user = await createAccount(em, {
      email: options.email ?? uniqueEmail(),
      password,
      name: options.name ?? 'Test User',
      role: options.role ?? 'user',
    });
    if (options.credits !== undefined) {
      const { balance } = await credits.balanceOf(em, user.id);
      const delta = options.credits - balance;
      if (delta !== 0) {
        await credits.post(em, {
          userId: user.id,
          type: 'admin_adjustment',
          amount: delta,
          description: 'test setup',
        });
      }
    }
    return { ...user, password };
  });
}

/** A plan (defaults: a monthly Pro-like plan with 500 credits per period). */
export async function createPlan(
  db: TestDatabase,
  overrides: Partial<{
    key: string;
    name: string;
    creditsPerPeriod: number;
    priceMonthlyCents: number;
    priceYearlyCents: number;
    externalPriceMonthlyId: string | null;
    ctaType: 'checkout' | 'contact' | 'link' | 'none';
    active: boolean;
    sortOrder: number;
  }> = {},
) {
  return db.orm.em.fork().transactional(async (em) => {
    const key = overrides.key ?? `plan-${randomBytes(4).toString('hex')}`;
    const plan = em.create(Plan, {
      key,
      name: overrides.name ?? key,
      creditsPerPeriod: 500,
      priceMonthlyCents: 1900,
      priceYearlyCents: 19000,
      currency: 'usd',
      features: [],
      ...overrides,
    });
    await em.flush();
    return { id: plan.id, key: plan.key, creditsPerPeriod: plan.creditsPerPeriod };
  });
}

/** A credit package (defaults: 250 credits for $10). */
export async function createPackage(
  db: TestDatabase,
  overrides: Partial<{
    name: string;
    credits: number;
    priceCents: number;
    polarProductId: string;
    active: boolean;
    sortOrder: number;
  }> = {},
) {
  return db.orm.em.fork().transactional(async (em) => {
    const pkg = em.create(CreditPackage, {
      name: 'Pack',
      credits: 250,
      priceCents: 1000,
      currency: 'usd',
      ...overrides,
    });
    await em.flush();
    return { id: pkg.id, credits: pkg.credits, name: pkg.name, priceCents: pkg.priceCents };
  });
}
