// orgs.*: organizations, members, invitations and the features board. Who may do what is decided
// by orgProcedure(role) before a procedure runs (outsiders NOT_FOUND, smaller roles FORBIDDEN);
// the only rules left to the services are the ones about the target (owners, the last owner).
import {
  acceptInvitationInput,
  createFeatureInput,
  createInvitationInput,
  createOrgInput,
  featureIdInput,
  featuresListInput,
  invitationIdInput,
  memberInput,
  setMemberRoleInput,
  updateFeatureInput,
  updateOrgInput,
} from '../../../shared/schemas/orgs.ts';
import { router, userProcedure } from '../../trpc/trpc.ts';
import * as features from './features.service.ts';
import * as invitations from './invitations.service.ts';
import { orgProcedure } from './org-procedure.ts';
import * as orgs from './orgs.service.ts';

export const orgsRouter = router({
  list: userProcedure.query(({ ctx }) => orgs.listOrgs(ctx.em, ctx.user.id)),
  create: userProcedure
    .input(createOrgInput)
    .mutation(({ ctx, input }) => orgs.createOrg(ctx.em, ctx.user.id, input)),
  get: orgProcedure('member').query(({ ctx }) => orgs.getOrg(ctx.em, ctx.membership)),
  update: orgProcedure('admin')
    .input(updateOrgInput)
    .mutation(({ ctx, input }) => orgs.updateOrg(ctx.em, ctx.membership, input)),
  delete: orgProcedure('owner').mutation(({ ctx }) => orgs.deleteOrg(ctx.em, ctx.membership)),
  leave: orgProcedure('member').mutation(({ ctx }) => orgs.leaveOrg(ctx.em, ctx.membership)),

  members: router({
    list: orgProcedure('member').query(({ ctx }) => orgs.listMembers(ctx.em, ctx.membership.organizationId)),
    setRole: orgProcedure('admin')
      .input(setMemberRoleInput)
      .mutation(({ ctx, input }) => orgs.setMemberRole(ctx.em, ctx.membership, input.userId, input.role)),
    remove: orgProcedure('admin')
      .input(memberInput)
      .mutation(({ ctx, input }) => orgs.removeMember(ctx.em, ctx.membership, input.userId)),
  }),

  invitations: router({
    create: orgProcedure('admin')
      .input(createInvitationInput)
      .mutation(({ ctx, input }) =>
        invitations.createInvitation(ctx.em, ctx.membership, input, ctx.config.publicUrl),
      ),
    list: orgProcedure('admin').query(({ ctx }) =>
      invitations.listInvitations(ctx.em, ctx.membership.organizationId),
    ),
    revoke: orgProcedure('admin')
      .input(invitationIdInput)
      .mutation(({ ctx, input }) =>
        invitations.revokeInvitation(ctx.em, ctx.membership.organizationId, input.invitationId),
      ),
    // The invitee is not a member yet: any signed-in user with the invited email.
    accept: userProcedure
      .input(acceptInvitationInput)
      .mutation(({ ctx, input }) => invitations.acceptInvitation(ctx.em, ctx.user, input.token)),
  }),

  features: router({
    list: orgProcedure('member')
      .input(featuresListInput)
      .query(({ ctx, input }) => features.listFeatures(ctx.em, ctx.membership.organizationId, input)),
    create: orgProcedure('member')
      .input(createFeatureInput)
      .mutation(({ ctx, input }) => features.createFeature(ctx.em, ctx.membership.organizationId, input)),
    update: orgProcedure('member')
      .input(updateFeatureInput)
      .mutation(({ ctx, input }) => features.updateFeature(ctx.em, ctx.membership.organizationId, input)),
    remove: orgProcedure('admin')
      .input(featureIdInput)
      .mutation(({ ctx, input }) =>
        features.removeFeature(ctx.em, ctx.membership.organizationId, input.featureId),
      ),
  }),
});
