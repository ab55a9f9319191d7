// Invitations by email: the token is random and stored only as its SHA-256 hash; single use.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { MEMBERSHIP_ROLES } from '../../../shared/schemas/orgs.ts';
import { createdAtProperty, idProperty, timestampColumn } from '../../common/entity-properties.ts';
import { User } from '../identity/user.entity.ts';
import { Organization } from './organization.entity.ts';

export const Invitation = defineEntity({
  name: 'Invitation',
  tableName: 'invitations',
  properties: {
    id: idProperty(),
    organization: () =>
      p.manyToOne(Organization).deleteRule('cascade').index('invitations_organization_id_idx'),
    email: p.string().length(254).index('invitations_email_idx'),
    role: p.enum(MEMBERSHIP_ROLES),
    tokenHash: p.string().length(64).unique('invitations_token_hash_unique').hidden(),
    invitedBy: () =>
      p.manyToOne(User).nullable().deleteRule('set null').index('invitations_invited_by_id_idx'),
    expiresAt: timestampColumn(),
    acceptedAt: timestampColumn().nullable(),
    revokedAt: timestampColumn().nullable(),
    createdAt: createdAtProperty(),
  },
});
export type Invitation = InferEntity<typeof Invitation>;
