import type { MembershipRole } from '../../../../shared/schemas/orgs.ts';

/** Role order inside an organization (the server decides; the page only hides what it would refuse). */
export const RANK: Record<MembershipRole, number> = { member: 0, admin: 1, owner: 2 };

export const atLeast = (role: MembershipRole, needed: MembershipRole) => RANK[role] >= RANK[needed];
