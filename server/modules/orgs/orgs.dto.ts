// Plain objects the orgs procedures return.
import type { MembershipRole } from '../../../shared/schemas/orgs.ts';
import type { Feature } from './feature.entity.ts';
import type { Invitation } from './invitation.entity.ts';
import type { Organization } from './organization.entity.ts';

export const toOrgDto = (org: Organization, role: MembershipRole, counts: { members: number }) => ({
  id: org.id,
  name: org.name,
  slug: org.slug,
  role,
  memberCount: counts.members,
  createdAt: org.createdAt as Date,
});

/** orgs.get: the organization with the caller's role and its sizes. */
export const toOrgDetailDto = (
  org: Organization,
  role: MembershipRole,
  counts: { members: number; features: number; projects: number },
) => ({
  ...toOrgDto(org, role, counts),
  featureCount: counts.features,
  projectCount: counts.projects,
});

export type InvitationStatus = 'pending' | 'accepted' | 'revoked' | 'expired';
export const invitationStatus = (invitation: Invitation, now = new Date()): InvitationStatus =>
  invitation.acceptedAt
    ? 'accepted'
    : invitation.revokedAt
      ? 'revoked'
      : invitation.expiresAt <= now
        ? 'expired'
        : 'pending';

export const toInvitationDto = (invitation: Invitation) => ({
  id: invitation.id,
  email: invitation.email,
  role: invitation.role,
  status: invitationStatus(invitation),
  expiresAt: invitation.expiresAt,
  invitedBy: invitation.invitedBy ? { id: invitation.invitedBy.id, name: invitation.invitedBy.name } : null,
  createdAt: invitation.createdAt as Date,
});

export const toFeatureDto = (feature: Feature) => ({
  id: feature.id,
  name: feature.name,
  description: feature.description ?? null,
  tags: feature.tags as string[],
  createdAt: feature.createdAt as Date,
  updatedAt: feature.updatedAt as Date,
});
