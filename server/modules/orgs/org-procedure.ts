// The procedure builder of organization-scoped procedures, on top of the base userProcedure.
import { z } from 'zod';
import type { MembershipRole } from '../../../shared/schemas/orgs.ts';
import { userProcedure } from '../../trpc/trpc.ts';
import { requireMembership } from './memberships.service.ts';

/**
 * A procedure inside one organization: its input carries `organizationId` (merged with the
 * procedure's own `.input(...)`), and the caller must be a member with at least `atLeast`.
 * Outsiders get NOT_FOUND, members with too small a role FORBIDDEN; `ctx.membership` says who
 * they are there. Platform admins are not members by virtue of their role: they use admin.*.
 */
export const orgProcedure = (atLeast: MembershipRole) =>
  userProcedure.input(z.object({ organizationId: z.uuid() })).use(async ({ ctx, input, next }) => {
    const membership = await requireMembership(ctx.em, ctx.user.id, input.organizationId, atLeast);
    return next({ ctx: { membership } });
  });
