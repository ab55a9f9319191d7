// Who belongs to an organization and with which role. An organization always keeps an owner.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { MEMBERSHIP_ROLES } from '../../../shared/schemas/orgs.ts';
import { createdAtProperty, idProperty, updatedAtProperty } from '../../common/entity-properties.ts';
import { User } from '../identity/user.entity.ts';
import { Organization } from './organization.entity.ts';

export const Membership = defineEntity({
  name: 'Membership',
  tableName: 'memberships',
  properties: {
    id: idProperty(),
    organization: () => p.manyToOne(Organization).deleteRule('cascade'),
    user: () => p.manyToOne(User).deleteRule('cascade').index('memberships_user_id_idx'),
    role: p.enum(MEMBERSHIP_ROLES),
    createdAt: createdAtProperty(),
    updatedAt: updatedAtProperty(),
  },
  // (organization_id, user_id) also serves "members of an organization".
  uniques: [{ name: 'memberships_organization_id_user_id_unique', properties: ['organization', 'user'] }],
});
export type Membership = InferEntity<typeof Membership>;
