// admin.*: the role matrix for every admin procedure (generated from one table that must name
// them all), user search served by its trigram index, audited actions, and the numbers.
import { describe, expect, it } from 'vitest';
import { verifyInvariants } from '../../server/db/verify.ts';
import { USER_SEARCH_EXPRESSION } from '../../server/modules/admin/admin-users.service.ts';
import { AuditLog } from '../../server/modules/audit/audit-log.entity.ts';
import { CreditTransaction } from '../../server/modules/credits/credit-transaction.entity.ts';
import { appRouter } from '../../server/router.ts';
import { callerFor, callerForSession, sessionIdFrom } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { codeOf, failureOf, outcomeOf } from '../support/errors.ts';
import { createPlan, createUser } from '../support/factories.ts';

const db = setupTestDatabase();
const em = () => db.orm.em.fork();
type Caller = ReturnType<typeof callerFor>;

// Every admin procedure, how to call it, and whether moderators may (reads) or not (writes).
// The first test fails when a procedure is added to admin.* without a row here.
const NIL = '00000000-0000-7000-8000-000000000000';
const PROCEDURES: Record<string, { read: boolean; call: (c: Caller) => Promise<unknown> }> = {
  'admin.users.list': { read: true, call: (c) => c.admin.users.list({}) },
  'admin.users.get': { read: true, call: (c) => c.admin.users.get({ userId: NIL }) },
  'admin.users.setRole': { read: false, call: (c) => c.admin.users.setRole({ userId: NIL, role: 'user' }) },
  'admin.users.ban': { read: false, call: (c) => c.admin.users.ban({ userId: NIL, reason: 'spam' }) },
  'admin.users.unban': { read: false, call: (c) => c.admin.users.unban({ userId: NIL }) },
  'admin.users.deactivate': { read: false, call: (c) => c.admin.users.deactivate({ userId: NIL }) },
  'admin.users.delete': { read: false, call: (c) => c.admin.users.delete({ userId: NIL }) },
  'admin.credits.adjust': {
    read: false,
    call: (c) => c.admin.credits.adjust({ userId: NIL, amount: 1, reason: 'goodwill' }),
  },
  'admin.credits.transactions': { read: true, call: (c) => c.admin.credits.transactions({}) },
  'admin.credits.statement': {
    read: true,
    call: (c) => c.admin.credits.statement({ userId: NIL, month: new Date().toISOString().slice(0, 7) }),
  },
  'admin.plans.list': { read: true, call: (c) => c.admin.plans.list() },
  'admin.plans.upsert': {
    read: false,
    call: (c) =>
      c.admin.plans.upsert({
        id: NIL,
        key: 'x',
        name: 'X',
        creditsPerPeriod: 0,
        priceMonthlyCents: 0,
        priceYearlyCents: 0,
      }),
  },
  'admin.plans.archive': { read: false, call: (c) => c.admin.plans.archive({ id: NIL }) },
  'admin.packages.list': { read: true, call: (c) => c.admin.packages.list() },
  'admin.packages.upsert': {
    read: false,
    call: (c) => c.admin.packages.upsert({ id: NIL, name: 'P', credits: 1, priceCents: 1 }),
  },
  'admin.packages.archive': { read: false, call: (c) => c.admin.packages.archive({ id: NIL }) },
  'admin.payments.list': { read: true, call: (c) => c.admin.payments.list({}) },
  'admin.settings.get': { read: true, call: (c) => c.admin.settings.get() },
  'admin.settings.update': { read: false, call: (c) => c.admin.settings.update({}) },
  'admin.stats.overview': { read: true, call: (c) => c.admin.stats.overview() },
  'admin.stats.timeseries': {
    read: true,
    call: (c) => c.admin.stats.timeseries({ from: new Date(Date.now() - 86_400_000), to: new Date() }),
  },
  'admin.generations.list': { read: true, call: (c) => c.admin.generations.list({}) },
  'admin.audit.list': { read: true, call: (c) => c.admin.audit.list({}) },
  'admin.system.health': { read: true, call: (c) => c.admin.system.health() },
  'admin.retention.run': { read: false, call: (c) => c.admin.retention.run() },
};

describe('the admin role matrix', () => {
  it('names every admin procedure', () => {
    const procedures = Object.keys(appRouter._def.procedures).filter((path) => path.startsWith('admin.'));
    expect(procedures.sort()).toEqual(Object.keys(PROCEDURES).sort());
  });

  it.each(Object.entries(PROCEDURES))(
    '%s: anonymous, user, moderator, admin, banned',
    async (_path, procedure) => {
      const user = await createUser(db);
      const moderator = await createUser(db, { role: 'moderator' });
      const admin = await createUser(db, { role: 'admin' });
      const bannedAdmin = await createUser(db, { role: 'admin' });
      // A banned administrator has no valid session at all.
      const { cookies } = await (async () => {
        const caller = callerFor(db, null);
        await caller.auth.signIn({ email: bannedAdmin.email, password: bannedAdmin.password });
        return caller;
      })();
      await callerFor(db, admin).admin.users.ban({ userId: bannedAdmin.id, reason: 'compromised' });
      const banned = await callerForSession(db, sessionIdFrom(cookies) as string);

      expect(await outcomeOf(procedure.call(callerFor(db, null)))).toBe('UNAUTHORIZED');
      expect(await outcomeOf(procedure.call(callerFor(db, user)))).toBe('FORBIDDEN');
      expect(await outcomeOf(procedure.call(banned))).toBe('UNAUTHORIZED');
      const asModerator = await outcomeOf(procedure.call(callerFor(db, moderator)));
      if (procedure.read) expect(['OK', 'NOT_FOUND']).toContain(asModerator);
      else expect(asModerator).toBe('FORBIDDEN');
      // An admin gets past the role check: the call succeeds or fails on its (nil) target only.
      expect(['OK', 'NOT_FOUND', 'BAD_REQUEST']).toContain(
        await outcomeOf(procedure.call(callerFor(db, admin))),
      );
    },
  );
});

describe('admin.users', () => {
  it('searches names and email case-insensitively, filters, and pages with a total', async () => {
    const admin = await createUser(db, { role: 'admin' });
    const tag = `zq${Date.now().toString(36)}`;
    await createUser(db, { email: `ada.${tag}@example.test`, name: 'Ada Lovelace' });
    await createUser(db, { email: `grace.${tag}@example.test`, name: 'Grace Hopper', role: 'moderator' });
    await createUser(db, { email: `alan@${tag}.test`, name: 'Alan Turing' });
    const caller = callerFor(db, admin);
    const found = await caller.admin.users.list({ search: tag.toUpperCase() });
    expect(found.total).toBe(3);
    expect(
      (await caller.admin.users.list({ search: `${tag}`, role: 'moderator' })).items.map((u) => u.name),
    ).toEqual(['Grace Hopper']);
    expect(
      (await caller.admin.users.list({ search: 'lovelace' })).items.some((u) => u.name === 'Ada Lovelace'),
    ).toBe(true);
    const page2 = await caller.admin.users.list({ search: tag, pageSize: 2, page: 2 });
    expect(page2).toMatchObject({ total: 3, page: 2 });
    expect(page2.items).toHaveLength(1);
    expect((await caller.admin.users.list({ search: tag, page: 9 })).total).toBe(3);
    // LIKE wildcards in the search are literal.
    expect((await caller.admin.users.list({ search: '%' })).total).toBe(0);
    expect(await codeOf(caller.admin.users.list({ pageSize: 1000 }))).toBe('BAD_REQUEST');
  });

  it('serves the search from the trigram index on a few thousand users', async () => {
    await em().execute(
      `insert into users (id, email, name, role, status, created_at, updated_at)
       select gen_random_uuid(), 'bulk' || g || '@load.test', 'Bulk User ' || g, 'user', 'active', now(), now()
         from generate_series(1, 4000) g`,
    );
    // Every user has a balance (db:verify checks this file's data when it ends).
    await em().execute(
      `insert into credit_balances (id, user_id, balance, total_purchased, total_granted, total_used, total_refunded, ledger_seq, created_at, updated_at)
       select gen_random_uuid(), u.id, 0, 0, 0, 0, 0, 0, now(), now()
         from users u where not exists (select 1 from credit_balances b where b.user_id = u.id)`,
    );
    await em().execute('analyze users');
    const plan = await em().transactional(async (tx) => {
      // At a few thousand rows a sequential scan is still cheaper, so the planner rightly picks it;
      // with it disabled, the plan shows whether the index can serve this exact expression at all
      // (a search expression that drifted from the index's would still seq-scan here).
      await tx.execute('set local enable_seqscan = off');
      const rows = await tx.execute<{ 'QUERY PLAN': string }[]>(
        `explain select id from users where ${USER_SEARCH_EXPRESSION} like '%bulk3999@%'`,
      );
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain('users_search_trgm_idx');
  });

  it('bans (ending every session), unbans, sets roles, and audits each in the same transaction', async () => {
    const admin = await createUser(db, { role: 'admin' });
    const target = await createUser(db);
    const signedIn = callerFor(db, null);
    await signedIn.auth.signIn({ email: target.email, password: target.password });
    const sessionId = sessionIdFrom(signedIn.cookies) as string;
    const caller = callerFor(db, admin);
    await caller.admin.users.ban({ userId: target.id, reason: 'chargeback fraud' });
    expect(await codeOf((await callerForSession(db, sessionId)).credits.balance())).toBe('UNAUTHORIZED');
    await caller.admin.users.unban({ userId: target.id });
    await caller.admin.users.setRole({ userId: target.id, role: 'moderator' });
    expect(await codeOf(caller.admin.users.setRole({ userId: target.id, role: 'super_admin' }))).toBe(
      'FORBIDDEN',
    );
    expect(await codeOf(caller.admin.users.ban({ userId: admin.id, reason: 'myself' }))).toBe('BAD_REQUEST');
    const audit = await caller.admin.audit.list({ targetId: target.id });
    expect(audit.items.map((entry) => entry.action)).toEqual([
      'user.role_set',
      'user.unbanned',
      'user.banned',
      'credits.signup_bonus',
    ]);
    expect(audit.items[2]).toMatchObject({
      actor: { id: admin.id },
      metadata: { reason: 'chargeback fraud' },
    });
  });

  it('adjusts credits with a reason, never below zero, with performed_by and an audit entry', async () => {
    const admin = await createUser(db, { role: 'admin' });
    const user = await createUser(db, { credits: 20 });
    const caller = callerFor(db, admin);
    await expect(
      caller.admin.credits.adjust({ userId: user.id, amount: 30, reason: 'support goodwill' }),
    ).resolves.toMatchObject({ balanceAfter: 50 });
    const refused = await failureOf(
      caller.admin.credits.adjust({ userId: user.id, amount: -51, reason: 'clawback' }),
    );
    expect(refused.code).toBe('BAD_REQUEST');
    expect(refused.data?.fieldErrors).toMatchObject({ amount: expect.any(Array) });
    expect(
      (await failureOf(caller.admin.credits.adjust({ userId: user.id, amount: 5, reason: '' }))).data
        ?.fieldErrors,
    ).toHaveProperty('reason');
    const rows = await em().find(CreditTransaction, {
      user: user.id,
      type: 'admin_adjustment',
      performedBy: admin.id,
    });
    expect(rows.map((row) => [row.amount, row.description])).toEqual([[30, 'support goodwill']]);
    expect(await em().count(AuditLog, { action: 'credits.adjusted', targetId: user.id })).toBe(1);
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({ balance: 50 });
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });

  it('refuses an administrator adjusting their own credits, and writes nothing', async () => {
    const admin = await createUser(db, { role: 'admin', credits: 10 });
    const superAdmin = await createUser(db, { role: 'super_admin', credits: 10 });
    for (const actor of [admin, superAdmin]) {
      for (const amount of [1_000, -5]) {
        const refused = await failureOf(
          callerFor(db, actor).admin.credits.adjust({ userId: actor.id, amount, reason: 'for me' }),
        );
        expect(refused.code).toBe('BAD_REQUEST');
        expect(refused.message).toBe('You cannot do this to your own account');
      }
      await expect(callerFor(db, actor).credits.balance()).resolves.toMatchObject({ balance: 10 });
      expect(await em().count(CreditTransaction, { user: actor.id, performedBy: actor.id })).toBe(0);
      expect(await em().count(AuditLog, { action: 'credits.adjusted', targetId: actor.id })).toBe(0);
    }
  });

  it('hard-deletes a user but keeps their ledger rows with the user nulled', async () => {
    const admin = await createUser(db, { role: 'admin' });
    const user = await createUser(db, { credits: 7 });
    const ledgerIds = (await em().find(CreditTransaction, { user: user.id })).map((row) => row.id);
    await callerFor(db, admin).admin.users.delete({ userId: user.id });
    const kept = await em().find(CreditTransaction, { id: { $in: ledgerIds } });
    expect(kept).toHaveLength(ledgerIds.length);
    expect(kept.every((row) => row.user === null)).toBe(true);
    expect(await codeOf(callerFor(db, admin).admin.users.get({ userId: user.id }))).toBe('NOT_FOUND');
  });
});

describe('admin catalog, settings and numbers', () => {
  it('edits plans, packages and settings, validating feature costs', async () => {
    const admin = await createUser(db, { role: 'admin' });
    const caller = callerFor(db, admin);
    const plan = await caller.admin.plans.upsert({
      key: 'team',
      name: 'Team',
      creditsPerPeriod: 1000,
      priceMonthlyCents: 4900,
      priceYearlyCents: 49000,
      features: ['Seats'],
    });
    await caller.admin.plans.upsert({
      id: plan.id,
      key: 'team',
      name: 'Team+',
      creditsPerPeriod: 1200,
      priceMonthlyCents: 5900,
      priceYearlyCents: 59000,
    });
    expect((await callerFor(db, null).billing.plans()).find((p) => p.key === 'team')).toMatchObject({
      name: 'Team+',
      creditsPerPeriod: 1200,
    });
    await caller.admin.plans.archive({ id: plan.id });
    expect((await callerFor(db, null).billing.plans()).some((p) => p.key === 'team')).toBe(false);
    const other = await createPlan(db, { key: 'taken' });
    expect(
      (
        await failureOf(
          caller.admin.plans.upsert({
            id: plan.id,
            key: other.key,
            name: 'x',
            creditsPerPeriod: 0,
            priceMonthlyCents: 0,
            priceYearlyCents: 0,
          }),
        )
      ).code,
    ).toBe('CONFLICT');

    const pkg = await caller.admin.packages.upsert({ name: 'Huge', credits: 10_000, priceCents: 20_000 });
    expect((await callerFor(db, null).billing.packages()).some((p) => p.id === pkg.id)).toBe(true);

    await expect(
      caller.admin.settings.update({ featureCosts: { logo_generation: 3 }, signupBonus: 50 }),
    ).resolves.toMatchObject({ featureCosts: { logo_generation: 3, code_generation: 5 }, signupBonus: 50 });
    const bad = await failureOf(
      caller.admin.settings.update({ featureCosts: { video_generation: 2 } as never }),
    );
    expect(bad.code).toBe('BAD_REQUEST');
    expect(await codeOf(caller.admin.settings.update({ featureCosts: { logo_generation: -1 } }))).toBe(
      'BAD_REQUEST',
    );
    await expect(callerFor(db, null).credits.costs()).resolves.toMatchObject({ logo_generation: 3 });
    await caller.admin.settings.update({ featureCosts: { logo_generation: 1 }, signupBonus: 100 });
  });

  it('reports users, credits, revenue, generations and system health', async () => {
    const moderator = await createUser(db, { role: 'moderator' });
    const caller = callerFor(db, moderator);
    const overview = await caller.admin.stats.overview();
    expect(overview.users.total).toBeGreaterThan(0);
    const balances = await em().execute<{ granted: string }[]>(
      'select sum(total_granted) as granted from credit_balances',
    );
    expect(overview.credits.granted).toBe(Number(balances[0]?.granted));
    const series = await caller.admin.stats.timeseries({
      from: new Date(Date.now() - 6 * 86_400_000),
      to: new Date(),
    });
    expect(series).toHaveLength(7);
    expect(series.at(-1)?.signups).toBeGreaterThan(0);
    expect(
      (
        await failureOf(
          caller.admin.stats.timeseries({ from: new Date(), to: new Date(Date.now() - 86_400_000) }),
        )
      ).code,
    ).toBe('BAD_REQUEST');
    const health = await caller.admin.system.health();
    expect(health.database.bytes).toBeGreaterThan(0);
    expect(health.tables.map((t) => t.name)).toContain('credit_transactions');
    expect(health.queue.length).toBeGreaterThanOrEqual(0);
  });
});
