// Organizations: creation and ownership, members and roles, the last-owner rule (also under
// concurrency), invitations by email (single use, expiry, revocation, the right account), the
// features board (tags, search, pagination), deletion, and one invitation accepted over HTTP.
import { describe, expect, it } from 'vitest';
import { User } from '../../server/modules/identity/user.entity.ts';
import { MailOutbox } from '../../server/modules/mail/mail-outbox.entity.ts';
import { Feature } from '../../server/modules/orgs/feature.entity.ts';
import { Invitation } from '../../server/modules/orgs/invitation.entity.ts';
import { Membership } from '../../server/modules/orgs/membership.entity.ts';
import { callerFor, callerForSession, sessionIdFrom } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { codeOf, failureOf } from '../support/errors.ts';
import { createUser, type TestUser, uniqueEmail } from '../support/factories.ts';
import { httpClient, setupTestServer } from '../support/http.ts';

const db = setupTestDatabase();
const server = setupTestServer(db);
const em = () => db.orm.em.fork();
const as = (user: TestUser) => callerFor(db, user);

async function lastMailTo(email: string) {
  const [mail] = await em().find(MailOutbox, { to: email }, { orderBy: { createdAt: 'desc' }, limit: 1 });
  return mail?.body ?? '';
}
const tokenIn = (body: string) => /token=([A-Za-z0-9_-]+)/.exec(body)?.[1] as string;

/** An organization owned by `owner`, with the given others joined through real invitations. */
async function orgWith(owner: TestUser, others: [TestUser, 'admin' | 'member' | 'owner'][] = []) {
  const org = await as(owner).orgs.create({ name: `Acme ${Math.random().toString(36).slice(2, 7)}` });
  for (const [user, role] of others) {
    await as(owner).orgs.invitations.create({ organizationId: org.id, email: user.email, role });
    await as(user).orgs.invitations.accept({ token: tokenIn(await lastMailTo(user.email)) });
  }
  return org;
}

describe('organizations', () => {
  it('makes the creator owner, derives a slug and sets the default organization once', async () => {
    const owner = await createUser(db);
    const first = await as(owner).orgs.create({ name: 'Rocket Labs!' });
    expect(first).toMatchObject({
      name: 'Rocket Labs!',
      slug: expect.stringMatching(/^rocket-labs/),
      role: 'owner',
      memberCount: 1,
    });
    const second = await as(owner).orgs.create({ name: 'Rocket Labs!' });
    expect(second.slug).not.toBe(first.slug);
    expect((await em().findOneOrFail(User, owner.id)).defaultOrganization?.id).toBe(first.id);
    expect((await as(owner).orgs.list()).map((o) => o.id).sort()).toEqual([first.id, second.id].sort());
    await expect(as(owner).orgs.get({ organizationId: first.id })).resolves.toMatchObject({ role: 'owner' });
  });

  it('refuses a taken slug with a field error, and bad input', async () => {
    const owner = await createUser(db);
    const org = await as(owner).orgs.create({ name: 'Taken', slug: `taken-${Date.now()}` });
    const conflict = await failureOf(as(owner).orgs.create({ name: 'Again', slug: org.slug }));
    expect(conflict.code).toBe('CONFLICT');
    expect(conflict.data.fieldErrors).toMatchObject({ slug: ['Already taken'] });
    const bad = await failureOf(as(owner).orgs.create({ name: '', slug: '-Bad Slug-' }));
    expect(bad.code).toBe('BAD_REQUEST');
    expect(Object.keys(bad.data.fieldErrors ?? {})).toEqual(expect.arrayContaining(['name', 'slug']));
  });

  it('lets admins update and only owners delete; outsiders learn nothing', async () => {
    const [owner, admin, member, outsider] = await Promise.all([
      createUser(db),
      createUser(db),
      createUser(db),
      createUser(db),
    ]);
    const org = await orgWith(owner, [
      [admin, 'admin'],
      [member, 'member'],
    ]);
    await expect(as(admin).orgs.update({ organizationId: org.id, name: 'Renamed' })).resolves.toMatchObject({
      name: 'Renamed',
    });
    expect(await codeOf(as(member).orgs.update({ organizationId: org.id, name: 'No' }))).toBe('FORBIDDEN');
    expect(await codeOf(as(outsider).orgs.get({ organizationId: org.id }))).toBe('NOT_FOUND');
    expect(await codeOf(as(admin).orgs.delete({ organizationId: org.id }))).toBe('FORBIDDEN');

    await as(owner).orgs.features.create({ organizationId: org.id, name: 'Billing', tags: ['money'] });
    await expect(as(owner).orgs.delete({ organizationId: org.id })).resolves.toEqual({ ok: true });
    expect(await em().count(Membership, { organization: org.id })).toBe(0);
    expect(await em().count(Feature, { organization: org.id })).toBe(0);
    expect(await em().count(Invitation, { organization: org.id })).toBe(0);
    expect((await em().findOneOrFail(User, owner.id)).defaultOrganization).toBeNull();
    expect(await codeOf(as(owner).orgs.get({ organizationId: org.id }))).toBe('NOT_FOUND');
  });
});

describe('members and the last owner', () => {
  it('only owners make or unmake owners; admins manage members', async () => {
    const [owner, admin, member] = await Promise.all([createUser(db), createUser(db), createUser(db)]);
    const org = await orgWith(owner, [
      [admin, 'admin'],
      [member, 'member'],
    ]);
    const ids = { organizationId: org.id };
    expect(await codeOf(as(admin).orgs.members.setRole({ ...ids, userId: member.id, role: 'owner' }))).toBe(
      'FORBIDDEN',
    );
    expect(await codeOf(as(admin).orgs.members.setRole({ ...ids, userId: owner.id, role: 'member' }))).toBe(
      'FORBIDDEN',
    );
    expect(await codeOf(as(member).orgs.members.setRole({ ...ids, userId: member.id, role: 'admin' }))).toBe(
      'FORBIDDEN',
    );
    await expect(
      as(admin).orgs.members.setRole({ ...ids, userId: member.id, role: 'admin' }),
    ).resolves.toEqual({
      userId: member.id,
      role: 'admin',
    });
    expect(await codeOf(as(admin).orgs.members.remove({ ...ids, userId: owner.id }))).toBe('FORBIDDEN');
    await expect(as(admin).orgs.members.remove({ ...ids, userId: member.id })).resolves.toEqual({ ok: true });
    expect((await as(owner).orgs.members.list(ids)).map((m) => [m.email, m.role])).toEqual([
      [owner.email, 'owner'],
      [admin.email, 'admin'],
    ]);
    expect(await codeOf(as(owner).orgs.members.remove({ ...ids, userId: member.id }))).toBe('NOT_FOUND');
  });

  it('never lets the last owner leave, be demoted or be removed', async () => {
    const [owner, admin] = await Promise.all([createUser(db), createUser(db)]);
    const org = await orgWith(owner, [[admin, 'admin']]);
    const ids = { organizationId: org.id };
    const leave = await failureOf(as(owner).orgs.leave(ids));
    expect(leave.code).toBe('CONFLICT');
    expect(leave.message).toMatch(/needs an owner/);
    expect(await codeOf(as(owner).orgs.members.setRole({ ...ids, userId: owner.id, role: 'admin' }))).toBe(
      'CONFLICT',
    );
    expect(await codeOf(as(owner).orgs.members.remove({ ...ids, userId: owner.id }))).toBe('CONFLICT');

    await as(owner).orgs.members.setRole({ ...ids, userId: admin.id, role: 'owner' });
    await expect(as(owner).orgs.leave(ids)).resolves.toEqual({ ok: true });
    expect(await codeOf(as(owner).orgs.get(ids))).toBe('NOT_FOUND');
    expect(await codeOf(as(admin).orgs.leave(ids))).toBe('CONFLICT');
  });

  it('keeps an owner when two owners demote each other or leave at the same time', async () => {
    for (let round = 0; round < 5; round++) {
      const [a, b] = await Promise.all([createUser(db), createUser(db)]);
      const org = await orgWith(a, [[b, 'owner']]);
      const ids = { organizationId: org.id };
      const results = await Promise.allSettled(
        round % 2 === 0
          ? [
              as(a).orgs.members.setRole({ ...ids, userId: b.id, role: 'member' }),
              as(b).orgs.members.setRole({ ...ids, userId: a.id, role: 'member' }),
            ]
          : [as(a).orgs.leave(ids), as(b).orgs.leave(ids)],
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(await em().count(Membership, { organization: org.id, role: 'owner' })).toBe(1);
    }
  });
});

describe('invitations', () => {
  it('mails a single-use link that joins the invited account with the invited role', async () => {
    const [owner, invitee] = await Promise.all([createUser(db), createUser(db)]);
    const org = await as(owner).orgs.create({ name: 'Invites' });
    const invitation = await as(owner).orgs.invitations.create({
      organizationId: org.id,
      email: invitee.email.toUpperCase(),
      role: 'admin',
    });
    expect(invitation).toMatchObject({
      email: invitee.email,
      role: 'admin',
      status: 'pending',
      invitedBy: { id: owner.id },
    });
    const token = tokenIn(await lastMailTo(invitee.email));
    expect(await em().count(Invitation, { tokenHash: token })).toBe(0); // only the hash is stored

    const stranger = await createUser(db);
    expect(await codeOf(as(stranger).orgs.invitations.accept({ token }))).toBe('FORBIDDEN');
    await expect(as(invitee).orgs.invitations.accept({ token })).resolves.toMatchObject({
      id: org.id,
      role: 'admin',
      memberCount: 2,
    });
    expect((await em().findOneOrFail(User, invitee.id)).defaultOrganization?.id).toBe(org.id);
    const reused = await failureOf(as(invitee).orgs.invitations.accept({ token }));
    expect(reused.code).toBe('BAD_REQUEST');
    expect(reused.message).toBe('This invitation link is invalid or has expired');
    expect((await as(owner).orgs.invitations.list({ organizationId: org.id }))[0]).toMatchObject({
      status: 'accepted',
    });
    expect(
      await codeOf(as(owner).orgs.invitations.create({ organizationId: org.id, email: invitee.email })),
    ).toBe('CONFLICT');
  });

  it('refuses expired and revoked links, and a new invitation replaces the pending one', async () => {
    const owner = await createUser(db);
    const org = await as(owner).orgs.create({ name: 'Expiry' });
    const ids = { organizationId: org.id };
    const invitee = await createUser(db);

    const expiring = await as(owner).orgs.invitations.create({ ...ids, email: invitee.email });
    const expiredToken = tokenIn(await lastMailTo(invitee.email));
    await em().nativeUpdate(Invitation, { id: expiring.id }, { expiresAt: new Date(Date.now() - 1000) });
    expect(await codeOf(as(invitee).orgs.invitations.accept({ token: expiredToken }))).toBe('BAD_REQUEST');

    await as(owner).orgs.invitations.create({ ...ids, email: invitee.email });
    const olderToken = tokenIn(await lastMailTo(invitee.email));
    const newer = await as(owner).orgs.invitations.create({ ...ids, email: invitee.email, role: 'admin' });
    const newerToken = tokenIn(await lastMailTo(invitee.email));
    expect(await codeOf(as(invitee).orgs.invitations.accept({ token: olderToken }))).toBe('BAD_REQUEST');
    await as(owner).orgs.invitations.revoke({ ...ids, invitationId: newer.id });
    expect(await codeOf(as(invitee).orgs.invitations.accept({ token: newerToken }))).toBe('BAD_REQUEST');
    expect(await codeOf(as(owner).orgs.invitations.revoke({ ...ids, invitationId: newer.id }))).toBe(
      'NOT_FOUND',
    );
    expect(await em().count(Membership, { organization: org.id, user: invitee.id })).toBe(0);
  });

  it('lets only owners invite owners, and only admins invite at all', async () => {
    const [owner, admin, member] = await Promise.all([createUser(db), createUser(db), createUser(db)]);
    const org = await orgWith(owner, [
      [admin, 'admin'],
      [member, 'member'],
    ]);
    const ids = { organizationId: org.id };
    const refused = await failureOf(
      as(admin).orgs.invitations.create({ ...ids, email: uniqueEmail(), role: 'owner' }),
    );
    expect(refused.code).toBe('FORBIDDEN');
    expect(refused.data.fieldErrors).toMatchObject({ role: ['Not allowed'] });
    expect(await codeOf(as(member).orgs.invitations.create({ ...ids, email: uniqueEmail() }))).toBe(
      'FORBIDDEN',
    );
    expect(await codeOf(as(member).orgs.invitations.list(ids))).toBe('FORBIDDEN');
    expect(
      (await failureOf(as(admin).orgs.invitations.create({ ...ids, email: 'not an email' }))).data
        .fieldErrors,
    ).toHaveProperty('email');
  });

  it('is sent and accepted over HTTP: the owner invites, the invitee signs in with the mailed link', async () => {
    const [owner, invitee] = await Promise.all([createUser(db), createUser(db)]);
    const { client: ownerClient } = httpClient(server);
    await ownerClient.auth.signIn.mutate({ email: owner.email, password: owner.password });
    const org = await ownerClient.orgs.create.mutate({ name: 'Over HTTP' });
    await expect(
      ownerClient.orgs.invitations.create.mutate({ organizationId: org.id, email: invitee.email }),
    ).resolves.toMatchObject({ status: 'pending', expiresAt: expect.any(Date) });
    const { client } = httpClient(server);
    await client.auth.signIn.mutate({ email: invitee.email, password: invitee.password });
    await expect(
      client.orgs.invitations.accept.mutate({ token: tokenIn(await lastMailTo(invitee.email)) }),
    ).resolves.toMatchObject({
      id: org.id,
      role: 'member',
    });
    await expect(client.orgs.list.query()).resolves.toEqual([
      expect.objectContaining({ id: org.id, role: 'member' }),
    ]);
  });
});

describe('features board', () => {
  it('normalises tags, filters by any tag, searches, pages, and keeps to its organization', async () => {
    const [owner, member] = await Promise.all([createUser(db), createUser(db)]);
    const org = await orgWith(owner, [[member, 'member']]);
    const ids = { organizationId: org.id };
    const created = await as(member).orgs.features.create({
      ...ids,
      name: 'Stripe checkout',
      tags: [' Billing ', 'billing', 'API'],
    });
    expect(created.tags).toEqual(['billing', 'api']);
    await as(member).orgs.features.create({
      ...ids,
      name: 'Dark mode',
      description: 'Theme toggle for the dashboard',
      tags: ['ui'],
    });
    await as(member).orgs.features.create({ ...ids, name: 'Webhooks', tags: ['api'] });
    for (let i = 0; i < 4; i++) await as(member).orgs.features.create({ ...ids, name: `Filler ${i}` });

    const byTag = await as(member).orgs.features.list({ ...ids, tags: ['api', 'ui'] });
    expect(byTag.items.map((f) => f.name).sort()).toEqual(['Dark mode', 'Stripe checkout', 'Webhooks']);
    expect(byTag.allTags).toEqual(['api', 'billing', 'ui']);
    expect(
      (await as(member).orgs.features.list({ ...ids, search: 'DASHBOARD' })).items.map((f) => f.name),
    ).toEqual(['Dark mode']);
    expect((await as(member).orgs.features.list({ ...ids, search: '100%' })).items).toEqual([]);

    const first = await as(member).orgs.features.list({ ...ids, limit: 4 });
    const second = await as(member).orgs.features.list({ ...ids, limit: 4, cursor: first.nextCursor });
    expect(first.items).toHaveLength(4);
    expect(second.items).toHaveLength(3);
    expect(second.nextCursor).toBeNull();
    expect(new Set([...first.items, ...second.items].map((f) => f.id)).size).toBe(7);

    await expect(
      as(member).orgs.features.update({ ...ids, featureId: created.id, tags: ['payments'] }),
    ).resolves.toMatchObject({
      tags: ['payments'],
    });
    expect(await codeOf(as(member).orgs.features.remove({ ...ids, featureId: created.id }))).toBe(
      'FORBIDDEN',
    );
    await as(owner).orgs.features.remove({ ...ids, featureId: created.id });

    const elsewhere = await as(owner).orgs.create({ name: 'Elsewhere' });
    const foreign = await as(owner).orgs.features.create({ organizationId: elsewhere.id, name: 'Foreign' });
    expect(
      await codeOf(as(owner).orgs.features.update({ ...ids, featureId: foreign.id, name: 'Moved?' })),
    ).toBe('NOT_FOUND');
    const tooMany = await failureOf(
      as(member).orgs.features.create({
        ...ids,
        name: 'Tags',
        tags: Array.from({ length: 21 }, (_, i) => `t${i}`),
      }),
    );
    expect(tooMany.data.fieldErrors).toHaveProperty('tags');
  });
});

describe('sessions', () => {
  it('a removed member loses access at once', async () => {
    const [owner, member] = await Promise.all([createUser(db), createUser(db)]);
    const org = await orgWith(owner, [[member, 'member']]);
    const anonymous = callerFor(db, null);
    await anonymous.auth.signIn({ email: member.email, password: member.password });
    const session = await callerForSession(db, sessionIdFrom(anonymous.cookies) as string);
    await expect(session.orgs.get({ organizationId: org.id })).resolves.toMatchObject({ role: 'member' });
    await as(owner).orgs.members.remove({ organizationId: org.id, userId: member.id });
    expect(await codeOf(session.orgs.features.list({ organizationId: org.id }))).toBe('NOT_FOUND');
  });
});
