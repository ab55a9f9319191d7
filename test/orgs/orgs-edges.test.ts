// Organizations, the edges: derived slugs, slugs taken by a racing request, what deleting an
// organization takes along (and what it keeps), invitations raced, accepted by someone already in,
// or by an account created after the mail; the features board's search across pages; bad input.
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Generation } from '../../server/modules/generations/generation.entity.ts';
import { ApiKey } from '../../server/modules/identity/api-key.entity.ts';
import { User } from '../../server/modules/identity/user.entity.ts';
import { MailOutbox } from '../../server/modules/mail/mail-outbox.entity.ts';
import { Invitation } from '../../server/modules/orgs/invitation.entity.ts';
import { Membership } from '../../server/modules/orgs/membership.entity.ts';
import { slugify } from '../../server/modules/orgs/orgs.service.ts';
import { Project } from '../../server/modules/projects/project.entity.ts';
import { StorageObject } from '../../server/modules/storage/storage-object.entity.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { codeOf, failureOf } from '../support/errors.ts';
import { createUser, type TestUser, uniqueEmail } from '../support/factories.ts';

const db = setupTestDatabase();
const em = () => db.orm.em.fork();
const as = (user: TestUser) => callerFor(db, user);
const suffix = () => randomBytes(3).toString('hex');

async function lastMailTo(email: string) {
  const [mail] = await em().find(MailOutbox, { to: email }, { orderBy: { createdAt: 'desc' }, limit: 1 });
  return mail?.body ?? '';
}
const tokenIn = (body: string) => /token=([A-Za-z0-9_-]+)/.exec(body)?.[1] as string;

async function join(owner: TestUser, organizationId: string, user: TestUser, role: 'admin' | 'member') {
  await as(owner).orgs.invitations.create({ organizationId, email: user.email, role });
  await as(user).orgs.invitations.accept({ token: tokenIn(await lastMailTo(user.email)) });
}

describe('slugs', () => {
  it('derives a slug the database accepts from any name', () => {
    expect(slugify('Café Noir!')).toBe('cafe-noir');
    expect(slugify('  --Hello__World--  ')).toBe('hello-world');
    expect(slugify('東京')).toBe('org');
    // The cut at 48 characters falls on a dash: it must not end the slug.
    const cut = slugify(`${'a'.repeat(47)} tail`);
    expect(cut).toBe('a'.repeat(47));
    for (const slug of [cut, slugify('Café Noir!'), slugify('東京')]) {
      expect(slug).toMatch(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/);
    }
  });

  it('creates an organization from a name that derives to a cut slug', async () => {
    const owner = await createUser(db);
    const org = await as(owner).orgs.create({ name: `${'b'.repeat(47)} ${suffix()}` });
    expect(org.slug).toMatch(/^b{47}(-[0-9a-f]{6})?$/);
  });

  it('gives the slug field error to the loser of two racing creates with one slug', async () => {
    const [a, b] = await Promise.all([createUser(db), createUser(db)]);
    const slug = `race-${suffix()}`;
    const results = await Promise.allSettled([
      as(a).orgs.create({ name: 'A', slug }),
      as(b).orgs.create({ name: 'B', slug }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    const failure = await failureOf(Promise.reject(lost.reason));
    expect(failure.code).toBe('CONFLICT');
    expect(failure.data.fieldErrors).toEqual({ slug: ['Already taken'] });
  });

  it('refuses renaming to a taken slug, and accepts its own', async () => {
    const owner = await createUser(db);
    const first = await as(owner).orgs.create({ name: 'First', slug: `first-${suffix()}` });
    const second = await as(owner).orgs.create({ name: 'Second', slug: `second-${suffix()}` });
    const taken = await failureOf(as(owner).orgs.update({ organizationId: second.id, slug: first.slug }));
    expect(taken.code).toBe('CONFLICT');
    expect(taken.data.fieldErrors).toEqual({ slug: ['Already taken'] });
    await expect(
      as(owner).orgs.update({ organizationId: second.id, slug: second.slug, name: 'Second!' }),
    ).resolves.toMatchObject({ slug: second.slug, name: 'Second!' });
    const bad = await failureOf(as(owner).orgs.update({ organizationId: second.id, slug: 'Not A Slug' }));
    expect(bad.code).toBe('BAD_REQUEST');
    expect(bad.data.fieldErrors).toHaveProperty('slug');
  });
});

describe('deleting an organization', () => {
  it('takes members, projects, keys and published bundles along, keeps generations and the ledger', async () => {
    const [owner, member] = await Promise.all([createUser(db, { credits: 50 }), createUser(db)]);
    const org = await as(owner).orgs.create({ name: 'Doomed' });
    await join(owner, org.id, member, 'member');
    // The member's default organization is this one (their first); the owner's is this one too.
    expect((await em().findOneOrFail(User, member.id)).defaultOrganization?.id).toBe(org.id);

    const project = await as(owner).projects.create({
      name: 'Site',
      template: 'saas',
      organizationId: org.id,
    });
    const generated = await as(owner).projects.generate({ projectId: project.id, agentType: 'backend' });
    const bundle = em().create(StorageObject, {
      user: owner.id,
      provider: 'local',
      key: `test/${randomUUID()}`,
      url: '/files/bundle',
      name: `projects/${project.id}/${randomUUID()}/index.html`,
      contentType: 'text/html',
      size: 1,
      sha256: '0'.repeat(64),
    });
    const elsewhere = em().create(StorageObject, {
      user: owner.id,
      provider: 'local',
      key: `test/${randomUUID()}`,
      url: '/files/mine',
      name: 'notes.txt',
      contentType: 'text/plain',
      size: 1,
      sha256: '0'.repeat(64),
    });
    const fork = em();
    fork.persist([bundle, elsewhere]);
    fork.create(ApiKey, {
      user: owner.id,
      organization: org.id,
      name: 'org key',
      prefix: 'fl_test',
      hash: randomBytes(32).toString('hex'),
      scopes: [],
    });
    await fork.flush();
    await as(owner).orgs.invitations.create({ organizationId: org.id, email: uniqueEmail() });

    await expect(as(owner).orgs.get({ organizationId: org.id })).resolves.toMatchObject({
      memberCount: 2,
      projectCount: 1,
      featureCount: 0,
    });
    expect(await codeOf(as(member).orgs.delete({ organizationId: org.id }))).toBe('FORBIDDEN');
    await expect(as(owner).orgs.delete({ organizationId: org.id })).resolves.toEqual({ ok: true });

    expect(await em().count(Membership, { organization: org.id })).toBe(0);
    expect(await em().count(Invitation, { organization: org.id })).toBe(0);
    expect(await em().count(Project, { id: project.id })).toBe(0);
    expect(await em().count(ApiKey, { organization: org.id })).toBe(0);
    for (const user of [owner, member]) {
      expect((await em().findOneOrFail(User, user.id)).defaultOrganization).toBeNull();
    }
    const generation = await em().findOneOrFail(Generation, generated.generation.id);
    expect(generation.organization).toBeNull();
    expect(generation.project).toBeNull();
    expect((await em().findOneOrFail(StorageObject, bundle.id)).deletedAt).toBeInstanceOf(Date);
    expect((await em().findOneOrFail(StorageObject, elsewhere.id)).deletedAt).toBeNull();
    expect(await codeOf(as(member).orgs.get({ organizationId: org.id }))).toBe('NOT_FOUND');
    await expect(as(member).orgs.list()).resolves.toEqual([]);
  });
});

describe('invitations, raced and odd', () => {
  it('joins once when the same link is accepted twice at the same time', async () => {
    const [owner, invitee] = await Promise.all([createUser(db), createUser(db)]);
    const org = await as(owner).orgs.create({ name: 'Once' });
    await as(owner).orgs.invitations.create({ organizationId: org.id, email: invitee.email });
    const token = tokenIn(await lastMailTo(invitee.email));
    const results = await Promise.allSettled([
      as(invitee).orgs.invitations.accept({ token }),
      as(invitee).orgs.invitations.accept({ token }),
      as(invitee).orgs.invitations.accept({ token }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') {
        expect((await failureOf(Promise.reject(r.reason))).message).toBe(
          'This invitation link is invalid or has expired',
        );
      }
    }
    expect(await em().count(Membership, { organization: org.id, user: invitee.id })).toBe(1);
  });

  it('leaves exactly one pending invitation when an address is invited twice at the same time', async () => {
    const owner = await createUser(db);
    const org = await as(owner).orgs.create({ name: 'Twice' });
    const email = uniqueEmail();
    const results = await Promise.allSettled([
      as(owner).orgs.invitations.create({ organizationId: org.id, email }),
      as(owner).orgs.invitations.create({ organizationId: org.id, email, role: 'admin' }),
    ]);
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(await em().count(Invitation, { organization: org.id, email, revokedAt: null })).toBe(1);
    expect(await em().count(Invitation, { organization: org.id, email })).toBe(2);
  });

  it('keeps the higher role of someone who is already a member', async () => {
    const [owner, invitee] = await Promise.all([createUser(db), createUser(db)]);
    const org = await as(owner).orgs.create({ name: 'Higher' });
    await as(owner).orgs.invitations.create({ organizationId: org.id, email: invitee.email, role: 'member' });
    const token = tokenIn(await lastMailTo(invitee.email));
    // Joined as admin by another way meanwhile.
    const fork = em();
    fork.create(Membership, { organization: org.id, user: invitee.id, role: 'admin' });
    await fork.flush();
    await expect(as(invitee).orgs.invitations.accept({ token })).resolves.toMatchObject({
      id: org.id,
      role: 'admin',
      memberCount: 2,
    });
    expect((await em().findOneOrFail(Membership, { organization: org.id, user: invitee.id })).role).toBe(
      'admin',
    );
  });

  it('is accepted by an account signed up after the mail, and not consumed by a wrong account', async () => {
    const [owner, stranger] = await Promise.all([createUser(db), createUser(db)]);
    const org = await as(owner).orgs.create({ name: 'Later' });
    const email = uniqueEmail('newcomer');
    await as(owner).orgs.invitations.create({ organizationId: org.id, email, role: 'admin' });
    const token = tokenIn(await lastMailTo(email));
    expect(await codeOf(as(stranger).orgs.invitations.accept({ token }))).toBe('FORBIDDEN');

    const newcomer = await createUser(db, { email });
    await expect(as(newcomer).orgs.invitations.accept({ token })).resolves.toMatchObject({ role: 'admin' });
    const listed = await as(owner).orgs.members.list({ organizationId: org.id });
    expect(listed.map((m) => [m.email, m.role])).toEqual([
      [owner.email, 'owner'],
      [email, 'admin'],
    ]);
  });

  it('lists pending invitations first and shows expired ones as expired', async () => {
    const owner = await createUser(db);
    const org = await as(owner).orgs.create({ name: 'Listing' });
    const ids = { organizationId: org.id };
    const old = await as(owner).orgs.invitations.create({ ...ids, email: uniqueEmail() });
    await em().nativeUpdate(Invitation, { id: old.id }, { expiresAt: new Date(Date.now() - 1000) });
    const fresh = await as(owner).orgs.invitations.create({ ...ids, email: uniqueEmail() });
    const listed = await as(owner).orgs.invitations.list(ids);
    expect(listed.map((i) => [i.id, i.status])).toEqual([
      [fresh.id, 'pending'],
      [old.id, 'expired'],
    ]);
    expect(listed[0]).not.toHaveProperty('tokenHash');
  });

  it('does not let an outsider revoke, nor a member of another organization', async () => {
    const [owner, outsider] = await Promise.all([createUser(db), createUser(db)]);
    const org = await as(owner).orgs.create({ name: 'Mine' });
    const theirs = await as(outsider).orgs.create({ name: 'Theirs' });
    const invitation = await as(owner).orgs.invitations.create({
      organizationId: org.id,
      email: uniqueEmail(),
    });
    expect(
      await codeOf(
        as(outsider).orgs.invitations.revoke({ organizationId: org.id, invitationId: invitation.id }),
      ),
    ).toBe('NOT_FOUND');
    // Through their own organization, the invitation is not theirs either.
    expect(
      await codeOf(
        as(outsider).orgs.invitations.revoke({ organizationId: theirs.id, invitationId: invitation.id }),
      ),
    ).toBe('NOT_FOUND');
    expect((await em().findOneOrFail(Invitation, invitation.id)).revokedAt).toBeNull();
  });
});

describe('features board, the edges', () => {
  it('keeps the search on every page', async () => {
    const owner = await createUser(db);
    const org = await as(owner).orgs.create({ name: 'Search pages' });
    const ids = { organizationId: org.id };
    for (let i = 0; i < 5; i++) {
      await as(owner).orgs.features.create({ ...ids, name: `Payment step ${i}` });
      await as(owner).orgs.features.create({ ...ids, name: `Other ${i}`, description: 'unrelated' });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { name: string }[]; nextCursor: string | null } = await as(
        owner,
      ).orgs.features.list({ ...ids, search: 'payment', limit: 2, cursor });
      seen.push(...page.items.map((f) => f.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([4, 3, 2, 1, 0].map((i) => `Payment step ${i}`));
  });

  it('refuses bad tags, names and cursors with field errors', async () => {
    const owner = await createUser(db);
    const org = await as(owner).orgs.create({ name: 'Bad input' });
    const ids = { organizationId: org.id };
    const long = await failureOf(
      as(owner).orgs.features.create({ ...ids, name: 'X', tags: ['x'.repeat(33)] }),
    );
    expect(long.code).toBe('BAD_REQUEST');
    expect(Object.keys(long.data.fieldErrors ?? {})).toEqual(['tags.0']);
    const blank = await failureOf(as(owner).orgs.features.create({ ...ids, name: '  ', tags: ['  '] }));
    expect(Object.keys(blank.data.fieldErrors ?? {}).sort()).toEqual(['name', 'tags.0']);
    const cursor = await failureOf(as(owner).orgs.features.list({ ...ids, cursor: 'garbage' }));
    expect(cursor.code).toBe('BAD_REQUEST');
    expect(cursor.data.fieldErrors).toHaveProperty('cursor');
    expect(await codeOf(as(owner).orgs.features.list({ organizationId: 'not-a-uuid' }))).toBe('BAD_REQUEST');
    const role = await failureOf(
      as(owner).orgs.members.setRole({ ...ids, userId: owner.id, role: 'boss' as 'admin' }),
    );
    expect(role.code).toBe('BAD_REQUEST');
    expect(role.data.fieldErrors).toHaveProperty('role');
  });

  it('shows only its own organization’s features and tags, and removes only its own', async () => {
    const [a, b] = await Promise.all([createUser(db), createUser(db)]);
    const mine = await as(a).orgs.create({ name: 'Mine' });
    const theirs = await as(b).orgs.create({ name: 'Theirs' });
    await as(a).orgs.features.create({ organizationId: mine.id, name: 'Mine', tags: ['shared', 'mine'] });
    const foreign = await as(b).orgs.features.create({
      organizationId: theirs.id,
      name: 'Theirs',
      tags: ['shared', 'secret'],
    });
    const listed = await as(a).orgs.features.list({ organizationId: mine.id, tags: ['shared', 'secret'] });
    expect(listed.items.map((f) => f.name)).toEqual(['Mine']);
    expect(listed.allTags).toEqual(['mine', 'shared']);
    expect(await codeOf(as(a).orgs.features.remove({ organizationId: mine.id, featureId: foreign.id }))).toBe(
      'NOT_FOUND',
    );
    expect(await codeOf(as(a).orgs.features.list({ organizationId: theirs.id }))).toBe('NOT_FOUND');
    await expect(
      as(a).orgs.features.update({
        organizationId: mine.id,
        featureId: listed.items[0]?.id as string,
        description: null,
        tags: [],
      }),
    ).resolves.toMatchObject({ description: null, tags: [] });
  });
});
