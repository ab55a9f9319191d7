// Invitations by email. The token is random, mailed once and stored only as its SHA-256 hash;
// accepting consumes it with a conditional update, so it works once, before it expires, unless
// revoked — and only for the account with the invited email.
import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import type { createInvitationInput } from '../../../shared/schemas/orgs.ts';
import { AppError } from '../../common/app-error.ts';
import type { AuthUser } from '../identity/identity.dto.ts';
import { User } from '../identity/user.entity.ts';
import { sendMail } from '../mail/mail.service.ts';
import { Invitation } from './invitation.entity.ts';
import { Membership } from './membership.entity.ts';
import { type OrgMembership, roleSatisfies } from './memberships.service.ts';
import { Organization } from './organization.entity.ts';
import { toInvitationDto, toOrgDto } from './orgs.dto.ts';
import { lockOrganization } from './orgs.service.ts';

export const INVITATION_TTL_DAYS = 7;
const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
const INVALID = 'This invitation link is invalid or has expired';

export async function createInvitation(
  em: EntityManager,
  actor: OrgMembership,
  input: z.output<typeof createInvitationInput>,
  publicUrl: string,
) {
  if (input.role === 'owner' && actor.role !== 'owner') {
    throw new AppError('forbidden', 'Only owners can invite owners', {
      fieldErrors: { role: ['Not allowed'] },
    });
  }
  // One invitation at a time per organization: two racing invitations of one address must not both
  // stay pending (each would revoke the other's predecessor, not each other).
  await lockOrganization(em, actor.organizationId);
  const existing = await em.findOne(User, { email: input.email }, { fields: ['id'] });
  if (
    existing &&
    (await em.count(Membership, { organization: actor.organizationId, user: existing.id })) > 0
  ) {
    throw new AppError('conflict', 'Already a member', { fieldErrors: { email: ['Already a member'] } });
  }
  // A new invitation replaces any pending one for the same address.
  await em.nativeUpdate(
    Invitation,
    { organization: actor.organizationId, email: input.email, acceptedAt: null, revokedAt: null },
    { revokedAt: new Date() },
  );
  const token = randomBytes(32).toString('base64url');
  const org = await em.findOneOrFail(Organization, actor.organizationId);
  const invitation = em.create(Invitation, {
    organization: org,
    email: input.email,
    role: input.role,
    tokenHash: hashToken(token),
    invitedBy: actor.userId,
    expiresAt: new Date(Date.now() + INVITATION_TTL_DAYS * 86_400_000),
  });
  sendMail(em, {
    to: input.email,
    subject: `You are invited to ${org.name} on Forgeline`,
    body: `You are invited to join ${org.name} as ${input.role}: ${publicUrl}/invitations/accept?token=${token}\nThe link works once, for ${INVITATION_TTL_DAYS} days. Sign in (or sign up) with this email address to accept.`,
  });
  await em.flush();
  await em.populate(invitation, ['invitedBy']);
  return toInvitationDto(invitation);
}

/** Pending invitations, then the ones settled in the last 30 days; newest first. */
export async function listInvitations(em: EntityManager, organizationId: string) {
  const invitations = await em.find(
    Invitation,
    { organization: organizationId, createdAt: { $gte: new Date(Date.now() - 30 * 86_400_000) } },
    { populate: ['invitedBy'], orderBy: { createdAt: 'desc' }, limit: 200 },
  );
  const dtos = invitations.map(toInvitationDto);
  return [...dtos.filter((i) => i.status === 'pending'), ...dtos.filter((i) => i.status !== 'pending')];
}

export async function revokeInvitation(em: EntityManager, organizationId: string, invitationId: string) {
  const revoked = await em.nativeUpdate(
    Invitation,
    { id: invitationId, organization: organizationId, acceptedAt: null, revokedAt: null },
    { revokedAt: new Date() },
  );
  if (revoked === 0) throw new AppError('not_found', 'No such pending invitation');
  return { ok: true as const };
}

export async function acceptInvitation(em: EntityManager, user: AuthUser, token: string) {
  const invitation = await em.findOne(Invitation, {
    tokenHash: hashToken(token),
    acceptedAt: null,
    revokedAt: null,
    expiresAt: { $gt: new Date() },
  });
  if (!invitation) throw new AppError('bad_request', INVALID, { fieldErrors: { token: [INVALID] } });
  if (invitation.email !== user.email) {
    throw new AppError('forbidden', `This invitation is for ${invitation.email}: sign in with that address`);
  }
  // Consume once: of two concurrent accepts, one updates the row, the other finds it used.
  const consumed = await em.nativeUpdate(
    Invitation,
    { id: invitation.id, acceptedAt: null, revokedAt: null },
    { acceptedAt: new Date() },
  );
  if (consumed === 0) throw new AppError('bad_request', INVALID, { fieldErrors: { token: [INVALID] } });

  const organizationId = invitation.organization.id;
  const current = await em.findOne(Membership, { organization: organizationId, user: user.id });
  if (!current) em.create(Membership, { organization: organizationId, user: user.id, role: invitation.role });
  else if (!roleSatisfies(current.role, invitation.role)) current.role = invitation.role;
  await em.flush();
  await em.nativeUpdate(
    User,
    { id: user.id, defaultOrganization: null },
    { defaultOrganization: organizationId },
  );
  const org = await em.findOneOrFail(Organization, organizationId);
  const role = current && roleSatisfies(current.role, invitation.role) ? current.role : invitation.role;
  return toOrgDto(org, role, { members: await em.count(Membership, { organization: organizationId }) });
}
