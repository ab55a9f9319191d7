// Accounts. Emails are stored lower-cased (the zod schema normalises them; a CHECK enforces it),
// which makes the plain unique constraint case-insensitive.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { USER_ROLES, USER_STATUSES } from '../../../shared/schemas/identity.ts';
import {
  createdAtProperty,
  idProperty,
  timestampColumn,
  updatedAtProperty,
} from '../../common/entity-properties.ts';
import { Organization } from '../orgs/organization.entity.ts';

export const User = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: idProperty(),
    email: p.string().length(254).unique('users_email_unique'),
    passwordHash: p.text().nullable().hidden().lazy(),
    name: p.string().length(120),
    firstName: p.string().length(120).nullable(),
    lastName: p.string().length(120).nullable(),
    avatarUrl: p.text().nullable(),
    role: p.enum(USER_ROLES).default('user').index('users_role_idx'),
    status: p.enum(USER_STATUSES).default('active').index('users_status_idx'),
    emailVerifiedAt: timestampColumn().nullable(),
    lastLoginAt: timestampColumn().nullable(),
    defaultOrganization: () =>
      p.manyToOne(Organization).nullable().deleteRule('set null').index('users_default_organization_id_idx'),
    createdAt: createdAtProperty().index('users_created_at_idx'),
    updatedAt: updatedAtProperty(),
  },
  indexes: [
    {
      // Serves admin.users.list's case-insensitive substring search (pg_trgm); the expression must
      // stay identical to USER_SEARCH_EXPRESSION in admin-users.service.ts.
      name: 'users_search_trgm_idx',
      expression:
        "create index \"users_search_trgm_idx\" on \"users\" using gin ((lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || name || ' ' || email)) gin_trgm_ops)",
    },
  ],
  checks: [{ name: 'users_email_lowercase_check', expression: 'email = lower(email)' }],
});
export type User = InferEntity<typeof User>;
