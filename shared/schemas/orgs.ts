// Organizations: memberships with roles, invitations by email, and the workspace features board.
import { z } from 'zod';

export const MEMBERSHIP_ROLES = ['owner', 'admin', 'member'] as const;
export type MembershipRole = (typeof MEMBERSHIP_ROLES)[number];
export const membershipRoleSchema = z.enum(MEMBERSHIP_ROLES);

export const slugSchema = z
  .string()
  .trim()
  .toLowerCase()
  .min(2, { error: 'At least 2 characters' })
  .max(64)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, { error: 'Lowercase letters, digits and dashes' });

const orgName = z.string().trim().min(1, { error: 'Name the organization' }).max(120);

export const createOrgInput = z.object({ name: orgName, slug: slugSchema.optional() });
export type CreateOrgInput = z.input<typeof createOrgInput>;
export const updateOrgInput = z.object({ name: orgName.optional(), slug: slugSchema.optional() });
export type UpdateOrgInput = z.input<typeof updateOrgInput>;

export const memberInput = z.object({ userId: z.uuid() });
export const setMemberRoleInput = memberInput.extend({ role: membershipRoleSchema });

export const createInvitationInput = z.object({
  email: z.email({ error: 'Enter an email address' }).trim().toLowerCase().max(254),
  role: membershipRoleSchema.default('member'),
});
export type CreateInvitationInput = z.input<typeof createInvitationInput>;
export const invitationIdInput = z.object({ invitationId: z.uuid() });
export const acceptInvitationInput = z.object({
  token: z.string().trim().min(20, { error: 'This invitation link is not valid' }).max(200),
});

export const FEATURE_TAGS_MAX = 20;
const tag = z.string().trim().toLowerCase().min(1).max(32, { error: 'Tags are at most 32 characters' });
const tags = z
  .array(tag)
  .max(FEATURE_TAGS_MAX, { error: `At most ${FEATURE_TAGS_MAX} tags` })
  .transform((list) => [...new Set(list)]);

export const featuresListInput = z.object({
  /** Features carrying any of these tags. */
  tags: z.array(tag).max(FEATURE_TAGS_MAX).optional(),
  search: z.string().trim().max(200).optional(),
  cursor: z.string().max(100).nullish(),
  limit: z.number().int().min(1).max(100).default(30),
});
export type FeaturesListInput = z.input<typeof featuresListInput>;
export const createFeatureInput = z.object({
  name: z.string().trim().min(1, { error: 'Name the feature' }).max(120),
  description: z.string().trim().max(5000).nullish(),
  tags: tags.default([]),
});
export type CreateFeatureInput = z.input<typeof createFeatureInput>;
export const updateFeatureInput = z.object({
  featureId: z.uuid(),
  name: z.string().trim().min(1, { error: 'Name the feature' }).max(120).optional(),
  description: z.string().trim().max(5000).nullish(),
  tags: tags.optional(),
});
export const featureIdInput = z.object({ featureId: z.uuid() });
