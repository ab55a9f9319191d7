// Who may act in an organization: the membership lookup the org-role middleware and other modules
// (projects, generations) use. Roles rank owner > admin > member.
import type { EntityManager } from '@mikro-orm/postgresql';
import { MEMBERSHIP_ROLES, type MembershipRole } from '../../../shared/schemas/orgs.ts';
import { AppError } from '../../common/app-error.ts';
import { Membership } from './membership.entity.ts';

/** owner 2, admin 1, member 0: a role satisfies every role at or below it. */
const rank = (role: MembershipRole) => MEMBERSHIP_ROLES.length - 1 - MEMBERSHIP_ROLES.indexOf(role);
export const roleSatisfies = (role: MembershipRole, atLeast: MembershipRole) => rank(role) >= rank(atLeast);

export type OrgMembership = { organizationId: string; userId: string; role: MembershipRole };

/**
 * The caller's membership with at least `atLeast`. Not a member → NOT_FOUND (an outsider learns
 * nothing, not even that the organization exists); a member with too small a role → FORBIDDEN.
 */
export async function requireMembership(
  em: EntityManager,
  userId: string,
  organizationId: string,
  atLeast: MembershipRole = 'member',
): Promise<OrgMembership> {
  const membership = await em.findOne(
    Membership,
    { organization: organizationId, user: userId },
    { fields: ['role'] },
  );
  if (!membership) throw new AppError('not_found', 'No such organization');
  if (!roleSatisfies(membership.role, atLeast)) {
    throw new AppError('forbidden', `This needs the ${atLeast} role in the organization`);
  }
  return { organizationId, userId, role: membership.role };
}
