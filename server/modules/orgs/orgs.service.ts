// Organizations and their members. The rule that an organization always keeps an owner holds under
// concurrency: every change that can remove an owner first locks the organization row, so two
// owners demoting each other (or both leaving) at the same time run one after the other and the
// second sees it would leave none.
import { randomBytes } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import type { createOrgInput, MembershipRole, updateOrgInput } from '../../../shared/schemas/orgs.ts';
import { AppError } from '../../common/app-error.ts';
import { sql } from '../../db/sql.ts';
import { User } from '../identity/user.entity.ts';
import { takeBundlesOffline } from '../projects/project-bundles.ts';
import { Membership } from './membership.entity.ts';
import { type OrgMembership, roleSatisfies } from './memberships.service.ts';
import { Organization } from './organization.entity.ts';
import { toOrgDetailDto, toOrgDto } from './orgs.dto.ts';

/** A slug the `organizations_slug_check` accepts: a-z0-9 and inner dashes ("Café Noir!" → "cafe-noir"). */
export const slugify = (name: string) =>
  name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 48)
    .replace(/^-+|-+$/g, '') || 'org';

const slugTaken = async (em: EntityManager, slug: string, exceptId?: string) =>
  (await em.count(Organization, { slug, ...(exceptId ? { id: { $ne: exceptId } } : {}) })) > 0;

const slugConflict = () =>
  new AppError('conflict', 'That address is taken', { fieldErrors: { slug: ['Already taken'] } });

/** Flushes; a slug taken meanwhile by a concurrent request (the unique index) is the same field error. */
async function flushSlug(em: EntityManager) {
  try {
    await em.flush();
  } catch (error) {
    if (
      error instanceof UniqueConstraintViolationException &&
      (error as { constraint?: string }).constraint === 'organizations_slug_unique'
    ) {
      throw slugConflict();
    }
    throw error;
  }
}

async function memberCounts(em: EntityManager, orgIds: string[]) {
  if (orgIds.length === 0) return new Map<string, number>();
  const rows = await sql<{ organization_id: string; n: string }>(
    em,
    'select organization_id, count(*) as n from memberships where organization_id = any($1::uuid[]) group by 1',
    [orgIds],
  );
  return new Map(rows.map((row) => [row.organization_id, Number(row.n)]));
}

export async function listOrgs(em: EntityManager, userId: string) {
  const memberships = await em.find(
    Membership,
    { user: userId },
    { populate: ['organization'], orderBy: { organization: { name: 'asc' } } },
  );
  const counts = await memberCounts(
    em,
    memberships.map((m) => m.organization.id),
  );
  return memberships.map((m) =>
    toOrgDto(m.organization, m.role, { members: counts.get(m.organization.id) ?? 0 }),
  );
}

export async function createOrg(em: EntityManager, userId: string, input: z.output<typeof createOrgInput>) {
  let slug = input.slug ?? slugify(input.name);
  if (await slugTaken(em, slug)) {
    if (input.slug) throw slugConflict();
    slug = `${slug}-${randomBytes(3).toString('hex')}`;
  }
  const org = em.create(Organization, { name: input.name, slug });
  em.create(Membership, { organization: org, user: userId, role: 'owner' });
  await flushSlug(em);
  // The first organization becomes the user's default.
  await em.nativeUpdate(User, { id: userId, defaultOrganization: null }, { defaultOrganization: org.id });
  return toOrgDto(org, 'owner', { members: 1 });
}

/** The organization with the caller's role and how many members, features and projects it has. */
export async function getOrg(em: EntityManager, membership: OrgMembership) {
  const org = await em.findOneOrFail(Organization, membership.organizationId);
  const [counts] = await sql<{ members: string; features: string; projects: string }>(
    em,
    `select (select count(*) from memberships where organization_id = $1) as members,
            (select count(*) from features where organization_id = $2) as features,
            (select count(*) from projects where organization_id = $3) as projects`,
    [org.id, org.id, org.id],
  );
  return toOrgDetailDto(org, membership.role, {
    members: Number(counts?.members ?? 0),
    features: Number(counts?.features ?? 0),
    projects: Number(counts?.projects ?? 0),
  });
}

export async function updateOrg(
  em: EntityManager,
  membership: OrgMembership,
  input: z.output<typeof updateOrgInput>,
) {
  const org = await em.findOneOrFail(Organization, membership.organizationId);
  if (input.slug && input.slug !== org.slug && (await slugTaken(em, input.slug, org.id)))
    throw slugConflict();
  if (input.name !== undefined) org.name = input.name;
  if (input.slug !== undefined) org.slug = input.slug;
  await flushSlug(em);
  return getOrg(em, membership);
}

/**
 * Deletes the organization; the foreign keys take its memberships, invitations, features, projects
 * (with their deployments) and API keys along, unset it as anyone's default organization and keep
 * its generations (ledger rows stay) with the organization unset. Its projects' published bundles
 * go offline first, as when a project is removed (projects/project-bundles.ts).
 */
export async function deleteOrg(em: EntityManager, membership: OrgMembership) {
  await takeBundlesOffline(em, { organizationId: membership.organizationId });
  await em.nativeDelete(Organization, { id: membership.organizationId });
  return { ok: true as const };
}

/**
 * Serialises every change that could take away an owner (see the file comment), and re-invitations
 * of one address (invitations.service).
 */
export async function lockOrganization(em: EntityManager, organizationId: string) {
  await sql(em, 'select id from organizations where id = $1 for update', [organizationId]);
}

/** Locks, then reads the actor's role again: a concurrent change may have demoted them meanwhile. */
async function lockAndRecheck(em: EntityManager, actor: OrgMembership): Promise<MembershipRole> {
  await lockOrganization(em, actor.organizationId);
  const fresh = await em.findOne(
    Membership,
    { organization: actor.organizationId, user: actor.userId },
    { refresh: true },
  );
  if (!fresh) throw new AppError('not_found', 'No such organization');
  if (!roleSatisfies(fresh.role, 'admin'))
    throw new AppError('forbidden', 'This needs the admin role in the organization');
  return fresh.role;
}

async function ownerCount(em: EntityManager, organizationId: string) {
  return em.count(Membership, { organization: organizationId, role: 'owner' });
}

const lastOwner = () =>
  new AppError('conflict', 'An organization needs an owner: make someone else owner first');

async function memberOf(em: EntityManager, organizationId: string, userId: string) {
  // refresh: read after the lock, never a copy loaded before it (the caller's own membership is).
  const member = await em.findOne(
    Membership,
    { organization: organizationId, user: userId },
    { refresh: true },
  );
  if (!member) throw new AppError('not_found', 'No such member');
  return member;
}

const toMemberDto = (m: Membership & { user: User }) => ({
  userId: m.user.id,
  email: m.user.email,
  name: m.user.name,
  avatarUrl: m.user.avatarUrl ?? null,
  role: m.role,
  joinedAt: m.createdAt as Date,
});

export async function listMembers(em: EntityManager, organizationId: string) {
  const members = await em.find(
    Membership,
    { organization: organizationId },
    { populate: ['user'], orderBy: { createdAt: 'asc' } },
  );
  return members.map((m) => toMemberDto(m as Membership & { user: User }));
}

export async function setMemberRole(
  em: EntityManager,
  actor: OrgMembership,
  userId: string,
  role: MembershipRole,
) {
  const actorRole = await lockAndRecheck(em, actor);
  const member = await memberOf(em, actor.organizationId, userId);
  if ((role === 'owner' || member.role === 'owner') && actorRole !== 'owner') {
    throw new AppError('forbidden', 'Only owners can make or unmake owners');
  }
  if (member.role === 'owner' && role !== 'owner' && (await ownerCount(em, actor.organizationId)) <= 1) {
    throw lastOwner();
  }
  member.role = role;
  await em.flush();
  return { userId, role };
}

async function dropMembership(em: EntityManager, member: Membership) {
  const organizationId = member.organization.id;
  const userId = member.user.id;
  if (member.role === 'owner' && (await ownerCount(em, organizationId)) <= 1) throw lastOwner();
  em.remove(member);
  await em.flush();
  await em.nativeUpdate(
    User,
    { id: userId, defaultOrganization: organizationId },
    { defaultOrganization: null },
  );
}

export async function removeMember(em: EntityManager, actor: OrgMembership, userId: string) {
  const actorRole = await lockAndRecheck(em, actor);
  const member = await memberOf(em, actor.organizationId, userId);
  if (member.role === 'owner' && actorRole !== 'owner') {
    throw new AppError('forbidden', 'Only owners can remove owners');
  }
  await dropMembership(em, member);
  return { ok: true as const };
}

export async function leaveOrg(em: EntityManager, membership: OrgMembership) {
  await lockOrganization(em, membership.organizationId);
  await dropMembership(em, await memberOf(em, membership.organizationId, membership.userId));
  return { ok: true as const };
}
