// Who may call what (spec §5 invariant 7, §6): every procedure of the router, called by every kind
// of caller, from ONE table. A procedure missing from the table (or a row naming no procedure)
// fails the first test, so a new procedure cannot be added without saying who may call it.
//
// Callers: anonymous; `user` (owns the fixture rows); `otherUser`; the fixture organization's
// `orgMember`, `orgAdmin` and `orgOwner`; a platform `moderator` and `admin`; and `banned` (a user
// signed in, then banned: their session is gone). Denials must be UNAUTHORIZED, FORBIDDEN or
// NOT_FOUND, never data; an allowed call may still fail for a domain reason (bad token, CONFLICT),
// but never with a denial code unless the row says that code is a legitimate answer.
//
// The same table says what an API key may call (README, "API keys"): `read` opens queries and
// subscriptions, `write` every mutation too, `admin` admin.* (and reads), `generations:write` only
// the rows marked `apiKey: 'generations:write'` — exactly generations.create — and rows marked
// `apiKey: 'never'` (keys, passwords, sessions, the account) refuse every key whatever its scopes.
import { randomBytes } from 'node:crypto';
import { TRPCError } from '@trpc/server';
import { beforeAll, describe, expect, it } from 'vitest';
import * as adminUsers from '../../server/modules/admin/admin-users.service.ts';
import { Membership } from '../../server/modules/orgs/membership.entity.ts';
import { Organization } from '../../server/modules/orgs/organization.entity.ts';
import { storeFile } from '../../server/modules/storage/storage.service.ts';
import { appRouter } from '../../server/router.ts';
import type { ApiKeyScope } from '../../shared/schemas/identity.ts';
import type { MembershipRole } from '../../shared/schemas/orgs.ts';
import { callerFor, callerForSession, sessionIdFrom } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { createPackage, createUser, type TestUser, uniqueEmail } from '../support/factories.ts';

const db = setupTestDatabase();

const ACTORS = [
  'anonymous',
  'banned',
  'user',
  'otherUser',
  'orgMember',
  'orgAdmin',
  'orgOwner',
  'moderator',
  'admin',
] as const;
type Actor = (typeof ACTORS)[number];
type SignedInActor = Exclude<Actor, 'anonymous' | 'banned'>;

/**
 * public: anyone. user: any signed-in caller (their own data). own: a row of `user`'s — others
 * get NOT_FOUND. member / orgAdmin / orgOwner: that role or more in the fixture organization —
 * outsiders get NOT_FOUND, smaller roles FORBIDDEN. moderator: moderators and admins. admin: admins.
 */
type Access = 'public' | 'user' | 'own' | 'member' | 'orgAdmin' | 'orgOwner' | 'moderator' | 'admin';
type Outcome = 'allow' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'NOT_FOUND';
const DENIALS = new Set(['UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND']);

const ORG_RANK: Partial<Record<Actor, number>> = { orgMember: 0, orgAdmin: 1, orgOwner: 2 };
const ACCESS_RANK = { member: 0, orgAdmin: 1, orgOwner: 2 } as const;

function expectedOutcome(access: Access, actor: Actor): Outcome {
  if (access === 'public') return 'allow';
  if (actor === 'anonymous' || actor === 'banned') return 'UNAUTHORIZED';
  switch (access) {
    case 'user':
      return 'allow';
    case 'own':
      return actor === 'user' ? 'allow' : 'NOT_FOUND';
    case 'moderator':
      return actor === 'moderator' || actor === 'admin' ? 'allow' : 'FORBIDDEN';
    case 'admin':
      return actor === 'admin' ? 'allow' : 'FORBIDDEN';
    default: {
      const rank = ORG_RANK[actor];
      if (rank === undefined) return 'NOT_FOUND';
      return rank >= ACCESS_RANK[access] ? 'allow' : 'FORBIDDEN';
    }
  }
}

/** The rows a procedure is called on: made fresh for each procedure, lazily. */
type Fixture = {
  users: Record<SignedInActor, TestUser>;
  orgId(): Promise<string>;
  generationId(): Promise<string>;
  fileId(): Promise<string>;
  apiKeyId(): Promise<string>;
  sessionHandle(): Promise<string>;
  devCheckoutToken(): Promise<string>;
  /** A user for admin actions to act on. */
  victimId(): Promise<string>;
  /** Rows each caller needs its own of (removing one twice would answer NOT_FOUND). */
  memberIdFor(actor: Actor): Promise<string>;
  invitationIdFor(actor: Actor): Promise<string>;
  featureIdFor(actor: Actor): Promise<string>;
  /** A personal project of `user`'s. */
  projectId(): Promise<string>;
};

type Row = {
  access: Access;
  /** Called for each caller; fixture rows are shared unless the row asks for one per caller. */
  input?: (f: Fixture, actor: Actor) => unknown | Promise<unknown>;
  /** Codes an allowed caller may legitimately get (e.g. NOT_FOUND: "you have no subscription"). */
  allowedMayFailWith?: Outcome[];
  /**
   * API keys: 'never' — session only, refused to every key; 'generations:write' — a mutation that
   * key scope opens besides `write`. Unmarked rows follow the scopes' general rule.
   */
  apiKey?: 'never' | 'generations:write';
};

const uuid = '00000000-0000-4000-8000-000000000000';
const logo = { appName: 'Matrix', appFocus: 'testing roles', color1: '#112233', color2: '#445566' };

const MATRIX: Record<string, Row> = {
  health: { access: 'public' },

  'auth.signUp': {
    access: 'public',
    input: () => ({ email: uniqueEmail('matrix'), password: 'a long enough password', name: 'M' }),
  },
  'auth.signIn': {
    access: 'public',
    input: (f) => ({ email: f.users.user.email, password: f.users.user.password }),
  },
  'auth.signOut': { access: 'public' },
  'auth.me': { access: 'public' },
  'auth.oauth.providers': { access: 'public' },
  'auth.sessions.list': { access: 'user', apiKey: 'never' },
  'auth.sessions.revoke': {
    access: 'own',
    apiKey: 'never',
    input: async (f) => ({ id: await f.sessionHandle() }),
  },
  'auth.sessions.revokeOthers': { access: 'user', apiKey: 'never' },
  'auth.requestEmailVerification': { access: 'user', apiKey: 'never' },
  'auth.verifyEmail': { access: 'public', input: () => ({ token: 'x'.repeat(43) }) },
  'auth.requestPasswordReset': { access: 'public', input: (f) => ({ email: f.users.user.email }) },
  'auth.resetPassword': {
    access: 'public',
    input: () => ({ token: 'x'.repeat(43), password: 'another long password' }),
  },
  'auth.changePassword': {
    access: 'user',
    apiKey: 'never',
    // Wrong current password for every caller: checks the door without changing anyone's password.
    input: () => ({ currentPassword: 'not the password', newPassword: 'another long password' }),
  },
  'account.get': { access: 'user', apiKey: 'never' },
  'account.update': { access: 'user', apiKey: 'never', input: () => ({ firstName: 'Matrix' }) },
  'account.deactivate': {
    access: 'user',
    apiKey: 'never',
    input: () => ({ password: 'not the password' }),
  },
  'account.oauth.list': { access: 'user', apiKey: 'never' },
  // Nobody in the matrix has a linked provider: an allowed caller gets NOT_FOUND ("none linked").
  'account.oauth.unlink': {
    access: 'user',
    apiKey: 'never',
    input: () => ({ provider: 'github' }),
    allowedMayFailWith: ['NOT_FOUND'],
  },

  'apiKeys.list': { access: 'user', apiKey: 'never' },
  'apiKeys.create': { access: 'user', apiKey: 'never', input: () => ({ name: 'matrix', scopes: ['read'] }) },
  'apiKeys.revoke': { access: 'own', apiKey: 'never', input: async (f) => ({ id: await f.apiKeyId() }) },
  'apiKeys.update': {
    access: 'own',
    apiKey: 'never',
    input: async (f) => ({ id: await f.apiKeyId(), maxCreditsPerDay: 50 }),
  },

  'credits.balance': { access: 'user' },
  'credits.transactions': { access: 'user', input: () => ({}) },
  'credits.usage': { access: 'user', input: () => ({ days: 7 }) },
  'credits.costs': { access: 'public' },
  'credits.statement': { access: 'user', input: () => ({ month: new Date().toISOString().slice(0, 7) }) },

  'billing.plans': { access: 'public' },
  'billing.packages': { access: 'public' },
  'billing.subscription': { access: 'user' },
  'billing.payments': { access: 'user', input: () => ({}) },
  'billing.checkout': {
    access: 'user',
    input: async () => ({ kind: 'package', packageId: (await createPackage(db)).id }),
  },
  'billing.cancelSubscription': { access: 'user', allowedMayFailWith: ['NOT_FOUND'] },
  // No provider account yet (the matrix runs on the dev checkout): NOT_FOUND is the answer.
  'billing.portal': { access: 'user', allowedMayFailWith: ['NOT_FOUND'] },
  'billing.resumeSubscription': { access: 'user', allowedMayFailWith: ['NOT_FOUND'] },
  'billing.autoTopUp.get': { access: 'user' },
  // Saving it off needs no card; turning on charges is for a session only, never an API key.
  'billing.autoTopUp.set': {
    access: 'user',
    apiKey: 'never',
    input: async () => ({ enabled: false, threshold: 50, packageId: (await createPackage(db)).id }),
  },
  'billing.devCheckout.get': { access: 'own', input: async (f) => ({ token: await f.devCheckoutToken() }) },
  'billing.devCheckout.complete': {
    access: 'own',
    input: async (f) => ({ token: await f.devCheckoutToken() }),
  },

  'generations.create': {
    access: 'user',
    apiKey: 'generations:write',
    input: () => ({ kind: 'logo', input: logo }),
  },
  'generations.get': { access: 'own', input: async (f) => ({ id: await f.generationId() }) },
  'generations.list': { access: 'user', input: () => ({}) },
  'generations.cancel': { access: 'own', input: async (f) => ({ id: await f.generationId() }) },
  'generations.remove': { access: 'own', input: async (f) => ({ id: await f.generationId() }) },
  'generations.onUpdate': { access: 'user' },

  'storage.list': { access: 'user', input: () => ({}) },
  'storage.get': { access: 'own', input: async (f) => ({ id: await f.fileId() }) },
  'storage.remove': { access: 'own', input: async (f) => ({ id: await f.fileId() }) },
  'storage.restore': { access: 'own', input: async (f) => ({ id: await f.fileId() }) },

  'orgs.list': { access: 'user' },
  'orgs.create': { access: 'user', input: () => ({ name: 'Matrix' }) },
  'orgs.get': { access: 'member', input: async (f) => ({ organizationId: await f.orgId() }) },
  'orgs.update': {
    access: 'orgAdmin',
    input: async (f) => ({ organizationId: await f.orgId(), name: 'Renamed' }),
  },
  'orgs.delete': { access: 'orgOwner', input: async (f) => ({ organizationId: await f.orgId() }) },
  // The owner, last of the three to leave, is refused as the last owner (CONFLICT, not a denial).
  'orgs.leave': { access: 'member', input: async (f) => ({ organizationId: await f.orgId() }) },
  'orgs.members.list': { access: 'member', input: async (f) => ({ organizationId: await f.orgId() }) },
  'orgs.members.setRole': {
    access: 'orgAdmin',
    input: async (f) => ({ organizationId: await f.orgId(), userId: f.users.orgMember.id, role: 'member' }),
  },
  'orgs.members.remove': {
    access: 'orgAdmin',
    input: async (f, actor) => ({ organizationId: await f.orgId(), userId: await f.memberIdFor(actor) }),
  },
  'orgs.invitations.create': {
    access: 'orgAdmin',
    input: async (f) => ({ organizationId: await f.orgId(), email: uniqueEmail('invitee') }),
  },
  'orgs.invitations.list': { access: 'orgAdmin', input: async (f) => ({ organizationId: await f.orgId() }) },
  'orgs.invitations.revoke': {
    access: 'orgAdmin',
    input: async (f, actor) => ({
      organizationId: await f.orgId(),
      invitationId: await f.invitationIdFor(actor),
    }),
  },
  // Anyone signed in may try a token; an unknown one is BAD_REQUEST for all.
  'orgs.invitations.accept': { access: 'user', input: () => ({ token: 'x'.repeat(43) }) },
  'orgs.features.list': { access: 'member', input: async (f) => ({ organizationId: await f.orgId() }) },
  'orgs.features.create': {
    access: 'member',
    input: async (f) => ({ organizationId: await f.orgId(), name: 'Matrix feature', tags: ['matrix'] }),
  },
  'orgs.features.update': {
    access: 'member',
    input: async (f, actor) => ({
      organizationId: await f.orgId(),
      featureId: await f.featureIdFor(actor),
      name: 'Edited',
    }),
  },
  'orgs.features.remove': {
    access: 'orgAdmin',
    input: async (f, actor) => ({ organizationId: await f.orgId(), featureId: await f.featureIdFor(actor) }),
  },

  'projects.list': { access: 'user', input: () => ({}) },
  'projects.create': { access: 'user', input: () => ({ name: 'Matrix', template: 'custom' }) },
  'projects.get': { access: 'own', input: async (f) => ({ projectId: await f.projectId() }) },
  'projects.update': {
    access: 'own',
    input: async (f) => ({ projectId: await f.projectId(), name: 'Edited' }),
  },
  'projects.generate': {
    access: 'own',
    input: async (f) => ({ projectId: await f.projectId(), agentType: 'backend' }),
  },
  // A draft cannot be deployed: the owner gets CONFLICT (a domain answer), others NOT_FOUND.
  'projects.deploy': { access: 'own', input: async (f) => ({ projectId: await f.projectId() }) },
  'projects.remove': { access: 'own', input: async (f) => ({ projectId: await f.projectId() }) },

  'admin.users.list': { access: 'moderator', input: () => ({}) },
  'admin.users.get': { access: 'moderator', input: async (f) => ({ userId: await f.victimId() }) },
  'admin.users.setRole': {
    access: 'admin',
    input: async (f) => ({ userId: await f.victimId(), role: 'moderator' }),
  },
  'admin.users.ban': {
    access: 'admin',
    input: async (f) => ({ userId: await f.victimId(), reason: 'matrix test' }),
  },
  'admin.users.unban': { access: 'admin', input: async (f) => ({ userId: await f.victimId() }) },
  'admin.users.deactivate': { access: 'admin', input: async (f) => ({ userId: await f.victimId() }) },
  'admin.users.delete': { access: 'admin', input: async (f) => ({ userId: await f.victimId() }) },
  'admin.credits.adjust': {
    access: 'admin',
    input: async (f) => ({ userId: await f.victimId(), amount: 5, reason: 'matrix test' }),
  },
  'admin.credits.transactions': { access: 'moderator', input: () => ({}) },
  'admin.credits.statement': {
    access: 'moderator',
    input: async (f) => ({ userId: await f.victimId(), month: new Date().toISOString().slice(0, 7) }),
  },
  'admin.plans.list': { access: 'moderator' },
  'admin.plans.upsert': {
    access: 'admin',
    input: () => ({
      key: `matrix-${randomBytes(3).toString('hex')}`,
      name: 'Matrix',
      creditsPerPeriod: 10,
      priceMonthlyCents: 100,
      priceYearlyCents: 1000,
    }),
  },
  'admin.plans.archive': { access: 'admin', input: () => ({ id: uuid }), allowedMayFailWith: ['NOT_FOUND'] },
  'admin.packages.list': { access: 'moderator' },
  'admin.packages.upsert': {
    access: 'admin',
    input: () => ({ name: 'Matrix pack', credits: 10, priceCents: 100 }),
  },
  'admin.packages.archive': {
    access: 'admin',
    input: () => ({ id: uuid }),
    allowedMayFailWith: ['NOT_FOUND'],
  },
  'admin.payments.list': { access: 'moderator', input: () => ({ uncollected: true }) },
  'admin.settings.get': { access: 'moderator' },
  'admin.settings.versions': { access: 'moderator' },
  'admin.settings.update': { access: 'admin', input: () => ({}) },
  'admin.stats.overview': { access: 'moderator' },
  'admin.stats.timeseries': {
    access: 'moderator',
    input: () => ({ from: new Date(Date.now() - 7 * 86_400_000), to: new Date() }),
  },
  'admin.generations.list': { access: 'moderator', input: () => ({}) },
  'admin.audit.list': { access: 'moderator', input: () => ({}) },
  'admin.system.health': { access: 'moderator' },
  'admin.retention.run': { access: 'admin' },
};

// ——— callers and fixtures ———

const users = {} as Record<SignedInActor, TestUser>;
let bannedSessionId = '';
let orgSeq = 0;

beforeAll(async () => {
  const roles: Partial<Record<SignedInActor, 'moderator' | 'admin'>> = {
    moderator: 'moderator',
    admin: 'admin',
  };
  for (const actor of [
    'user',
    'otherUser',
    'orgMember',
    'orgAdmin',
    'orgOwner',
    'moderator',
    'admin',
  ] as const) {
    users[actor] = await createUser(db, { credits: 100_000, role: roles[actor] ?? 'user', name: actor });
  }
  const banned = await createUser(db, { name: 'banned' });
  const anonymous = callerFor(db, null);
  await anonymous.auth.signIn({ email: banned.email, password: banned.password });
  bannedSessionId = sessionIdFrom(anonymous.cookies) as string;
  await db.orm.em
    .fork()
    .transactional((em) =>
      adminUsers.ban(
        em,
        { id: users.admin.id, role: 'admin', email: users.admin.email } as never,
        banned.id,
        'matrix',
      ),
    );
});

function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    made ??= make();
    return made;
  };
}

function perActor<T>(make: (actor: Actor) => Promise<T>): (actor: Actor) => Promise<T> {
  const made = new Map<Actor, Promise<T>>();
  return (actor) => {
    if (!made.has(actor)) made.set(actor, make(actor));
    return made.get(actor) as Promise<T>;
  };
}

function freshFixture(): Fixture {
  const asUser = () => callerFor(db, users.user);
  const asOwner = () => callerFor(db, users.orgOwner);
  const fixture: Fixture = {
    users,
    orgId: once(async () =>
      db.orm.em.fork().transactional(async (em) => {
        const org = em.create(Organization, {
          name: 'Matrix org',
          slug: `matrix-${++orgSeq}-${randomBytes(3).toString('hex')}`,
        });
        const roles: [SignedInActor, MembershipRole][] = [
          ['orgMember', 'member'],
          ['orgAdmin', 'admin'],
          ['orgOwner', 'owner'],
        ];
        for (const [actor, role] of roles)
          em.create(Membership, { organization: org, user: users[actor].id, role });
        await em.flush();
        return org.id;
      }),
    ),
    generationId: once(
      async () => (await asUser().generations.create({ kind: 'text', input: { prompt: 'a tagline' } })).id,
    ),
    fileId: once(async () =>
      db.orm.em.fork().transactional(async (em) => {
        const file = await storeFile(em, db.runtime.storage, {
          userId: users.user.id,
          name: 'matrix.txt',
          contentType: 'text/plain',
          body: Buffer.from('matrix'),
        });
        return file.id;
      }),
    ),
    apiKeyId: once(async () => (await asUser().apiKeys.create({ name: 'matrix', scopes: ['read'] })).id),
    sessionHandle: once(async () => {
      const anonymous = callerFor(db, null);
      await anonymous.auth.signIn({ email: users.user.email, password: users.user.password });
      const owner = await callerForSession(db, sessionIdFrom(anonymous.cookies) as string);
      const sessions = await owner.auth.sessions.list();
      return (sessions.find((session) => session.current) ?? sessions[0])?.id as string;
    }),
    devCheckoutToken: once(async () => {
      const { url } = await asUser().billing.checkout({
        kind: 'package',
        packageId: (await createPackage(db)).id,
      });
      return new URL(url, 'http://localhost').searchParams.get('token') as string;
    }),
    victimId: once(async () => (await createUser(db, { name: 'victim' })).id),
    projectId: once(async () => (await asUser().projects.create({ name: 'Matrix', template: 'saas' })).id),
    memberIdFor: perActor(async () => {
      const organizationId = await fixture.orgId();
      const member = await createUser(db, { name: 'extra member' });
      const em = db.orm.em.fork();
      em.create(Membership, { organization: organizationId, user: member.id, role: 'member' });
      await em.flush();
      return member.id;
    }),
    invitationIdFor: perActor(async () => {
      const organizationId = await fixture.orgId();
      return (await asOwner().orgs.invitations.create({ organizationId, email: uniqueEmail('invitee') })).id;
    }),
    featureIdFor: perActor(async () => {
      const organizationId = await fixture.orgId();
      return (await asOwner().orgs.features.create({ organizationId, name: 'Matrix feature' })).id;
    }),
  };
  return fixture;
}

async function callerOf(actor: Actor) {
  if (actor === 'anonymous') return callerFor(db, null);
  if (actor === 'banned') return callerForSession(db, bannedSessionId);
  return callerFor(db, users[actor]);
}

/** Calls `path` as `actor`; returns 'ok' or the error's tRPC code. */
async function outcomeOf(path: string, actor: Actor, input: unknown): Promise<string> {
  return outcomeWith(await callerOf(actor), path, input);
}

async function outcomeWith(callerObject: object, path: string, input: unknown): Promise<string> {
  const caller = callerObject as Record<string, unknown>;
  const procedure = path
    .split('.')
    .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller) as (
    input: unknown,
  ) => Promise<unknown>;
  try {
    const result = await procedure(input);
    // A subscription: the doors were passed once the stream exists; close it.
    const stream = result as AsyncIterator<unknown> | null;
    if (stream && typeof stream === 'object' && typeof stream.return === 'function') await stream.return();
    return 'ok';
  } catch (error) {
    if (error instanceof TRPCError) return error.code;
    throw error;
  }
}

const procedures = () =>
  (appRouter as unknown as { _def: { procedures: Record<string, { _def: { type: string } }> } })._def
    .procedures;
const procedurePaths = () => Object.keys(procedures()).sort();

describe('role matrix', () => {
  it('has a row for every procedure of the router, and no row for a procedure that does not exist', () => {
    expect(Object.keys(MATRIX).sort()).toEqual(procedurePaths());
  });

  for (const path of procedurePaths()) {
    const row = MATRIX[path];
    if (!row) continue;
    it(`${path} (${row.access})`, async () => {
      const fixture = freshFixture();
      // Denied callers first: they must change nothing that an allowed caller then needs.
      const order = [...ACTORS].sort(
        (a, b) =>
          Number(expectedOutcome(row.access, a) === 'allow') -
          Number(expectedOutcome(row.access, b) === 'allow'),
      );
      const seen: Record<string, string> = {};
      const wanted: Record<string, string> = {};
      for (const actor of order) {
        const expected = expectedOutcome(row.access, actor);
        const actual = await outcomeOf(path, actor, await row.input?.(fixture, actor));
        const allowedAnswer = !DENIALS.has(actual) || row.allowedMayFailWith?.includes(actual as Outcome);
        seen[actor] = expected === 'allow' ? (allowedAnswer ? 'allow' : actual) : actual;
        wanted[actor] = expected;
      }
      expect(seen).toEqual(wanted);
    });
  }
});

// ——— API keys ———

const SCOPES = ['read', 'write', 'generations:write', 'admin'] as const satisfies readonly ApiKeyScope[];

/** Whether a key with only `scope` gets through to the procedure (its role rules come after). */
function expectedForKey(path: string, row: Row, scope: ApiKeyScope): 'allow' | 'FORBIDDEN' {
  if (row.apiKey === 'never') return 'FORBIDDEN';
  if (path.startsWith('admin.')) return scope === 'admin' ? 'allow' : 'FORBIDDEN';
  if (procedures()[path]?._def.type === 'mutation') {
    return scope === 'write' || scope === row.apiKey ? 'allow' : 'FORBIDDEN';
  }
  return scope === 'generations:write' ? 'FORBIDDEN' : 'allow';
}

/** A caller the row's own rule lets in, so that only the key's scope can refuse. */
function allowedActor(access: Access): SignedInActor {
  if (access === 'moderator' || access === 'admin') return 'admin';
  if (access === 'member' || access === 'orgAdmin' || access === 'orgOwner') return 'orgOwner';
  return 'user';
}

describe('API-key scopes', () => {
  for (const path of procedurePaths()) {
    const row = MATRIX[path];
    if (!row) continue;
    it(`${path}${row.apiKey ? ` (${row.apiKey})` : ''}`, async () => {
      const fixture = freshFixture();
      const actor = allowedActor(row.access);
      // Refused scopes first: they must change nothing that an allowed call then needs.
      const order = [...SCOPES].sort(
        (a, b) =>
          Number(expectedForKey(path, row, a) === 'allow') - Number(expectedForKey(path, row, b) === 'allow'),
      );
      const seen: Record<string, string> = {};
      const wanted: Record<string, string> = {};
      for (const scope of order) {
        const expected = expectedForKey(path, row, scope);
        const caller = callerFor(db, users[actor], { authMethod: 'bearer', scopes: [scope] });
        const actual = await outcomeWith(caller, path, await row.input?.(fixture, actor));
        const allowedAnswer = !DENIALS.has(actual) || row.allowedMayFailWith?.includes(actual as Outcome);
        seen[scope] = expected === 'allow' ? (allowedAnswer ? 'allow' : actual) : actual;
        wanted[scope] = expected;
      }
      expect(seen).toEqual(wanted);
    });
  }
});
