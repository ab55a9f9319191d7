// Factories return plain objects (ids and fields), never managed entities.
import { randomBytes } from 'node:crypto';
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
