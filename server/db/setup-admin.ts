// db:setup-admin: make an administrator — promote an existing account, or create one (with the
// given password, or a generated one printed once).
import { randomBytes } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { emailSchema, passwordSchema, USER_ROLES, type UserRole } from '../../shared/schemas/identity.ts';
import { createAccount } from '../modules/identity/identity.service.ts';
import { User } from '../modules/identity/user.entity.ts';

export async function setupAdmin(
  orm: MikroORM,
  input: {
    email: string;
    password?: string | undefined;
    name?: string | undefined;
    role?: string | undefined;
  },
) {
  const email = emailSchema.parse(input.email);
  const role = (input.role ?? 'admin') as UserRole;
  if (!(USER_ROLES as readonly string[]).includes(role) || !['admin', 'super_admin'].includes(role)) {
    throw new Error('--role must be admin or super_admin');
  }
  return orm.em.fork().transactional(async (em) => {
    const existing = await em.findOne(User, { email });
    if (existing) {
      existing.role = role;
      existing.status = 'active';
      return { created: false, role, generatedPassword: null };
    }
    const generatedPassword = input.password ? null : randomBytes(12).toString('base64url');
    const password = passwordSchema.parse(input.password ?? generatedPassword);
    await createAccount(em, { email, password, name: input.name ?? email.split('@')[0] ?? 'Admin', role });
    return { created: true, role, generatedPassword };
  });
}
