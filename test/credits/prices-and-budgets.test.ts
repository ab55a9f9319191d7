// Price snapshots (issue 16, item 2): feature costs are versioned; each generation records the
// version and unit cost it was priced at, so a price change never touches work in flight and a
// release returns exactly what was held. Per-API-key budgets (item 3): a key's maxCreditsPerDay is
// checked in the statement that holds (race-free), and apiKeys.list shows today's (UTC) spend.
// No workers run here: generations stay queued until a test moves them.
import { describe, expect, it } from 'vitest';
import { verifyInvariants } from '../../server/db/verify.ts';
import * as generations from '../../server/modules/generations/generations.service.ts';
import { getSettings } from '../../server/modules/settings/settings.service.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { failureOf } from '../support/errors.ts';
import { createUser, type TestUser } from '../support/factories.ts';
import { waitFor } from '../support/wait.ts';

const db = setupTestDatabase();
const em = () => db.orm.em.fork();
const logo = { appName: 'Prices', appFocus: 'versioned costs', color1: '#112233', color2: '#445566' };
const expectClean = async (...users: TestUser[]) =>
  expect(await verifyInvariants(em(), { userIds: users.map((user) => user.id) })).toEqual([]);

/** Costs in force as this process sees them (its cache is dropped by the change's NOTIFY). */
const waitForLogoCost = (cost: number) =>
  waitFor(async () => (await getSettings(db.orm.em.fork())).featureCosts.logo_generation === cost, {
    what: `the logo cost to be ${cost}`,
  });

describe('price snapshots', () => {
  it('a price change leaves generations in flight at their price; their release gives back exactly that', async () => {
    const admin = await createUser(db, { role: 'admin' });
    const user = await createUser(db, { credits: 100 });
    const caller = callerFor(db, user);
    const before = await caller.generations.create({ kind: 'logo', input: logo, outputCount: 2 });
    expect(before).toMatchObject({ unitCost: 1, creditsCharged: 2 });
    await callerFor(db, admin).admin.settings.update({ featureCosts: { logo_generation: 7 } });
    await waitForLogoCost(7);
    const after = await caller.generations.create({ kind: 'logo', input: logo, outputCount: 2 });
    expect(after).toMatchObject({ unitCost: 7, creditsCharged: 14 });
    expect(after.priceVersionId).not.toBe(before.priceVersionId);
    await expect(caller.credits.balance()).resolves.toMatchObject({ held: 16, available: 84 });
    // Released at the price it was held at (2), not today's (14).
    await caller.generations.cancel({ id: before.id });
    await expect(caller.credits.balance()).resolves.toMatchObject({ held: 14, available: 86 });
    // Captured at its own price too, whatever the price is by then.
    await callerFor(db, admin).admin.settings.update({ featureCosts: { logo_generation: 1 } });
    await waitForLogoCost(1);
    await em().transactional((tx) => generations.startRun(tx, after.id));
    await em().transactional((tx) =>
      generations.completeRun(tx, after.id, {
        images: [],
        text: null,
        tokensUsed: null,
        providerResponse: null,
      }),
    );
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 86, held: 0 });
    await expectClean(user);
  });

  it('every change is a new, audited version with its author; a scheduled one applies from its moment', async () => {
    const admin = await createUser(db, { role: 'admin' });
    const adminCaller = callerFor(db, admin);
    await adminCaller.admin.settings.update({ featureCosts: { text_generation: 2 } });
    const soon = new Date(Date.now() + 3600_000);
    const scheduled = await adminCaller.admin.settings.update({
      featureCosts: { text_generation: 3 },
      effectiveFrom: soon,
    });
    // Not in force yet: still 2 now, 3 from `soon` on.
    expect(scheduled.featureCosts.text_generation).toBe(2);
    expect(scheduled.nextPriceVersion).toMatchObject({ effectiveFrom: soon, costs: { text_generation: 3 } });
    expect((await getSettings(em(), new Date(soon.getTime() + 1000))).featureCosts.text_generation).toBe(3);
    const versions = await callerFor(
      db,
      await createUser(db, { role: 'moderator' }),
    ).admin.settings.versions();
    expect(versions[0]).toMatchObject({ state: 'scheduled', costs: { text_generation: 3 } });
    expect(versions[0]?.createdBy).toMatchObject({ id: admin.id, email: admin.email });
    expect(versions.find((version) => version.state === 'current')).toMatchObject({
      costs: { text_generation: 2 },
      createdBy: { id: admin.id },
    });
    const audit = await adminCaller.admin.audit.list({ action: 'feature_costs.versioned' });
    expect(audit.items.length).toBeGreaterThanOrEqual(2);
    // A date in the past, or a date with no cost, is refused with a field error and writes nothing.
    const past = await failureOf(
      adminCaller.admin.settings.update({
        featureCosts: { text_generation: 9 },
        effectiveFrom: new Date(Date.now() - 86_400_000),
      }),
    );
    expect(past.code).toBe('BAD_REQUEST');
    const dateOnly = await failureOf(adminCaller.admin.settings.update({ effectiveFrom: soon }));
    expect(dateOnly.code).toBe('BAD_REQUEST');
    expect(await adminCaller.admin.settings.versions()).toHaveLength(versions.length);
    // Drop the scheduled version again so later tests price as before (admin-only, audited).
    await em().execute('delete from feature_cost_versions where effective_from > now()');
  });

  it('generations created while the price changes each record the version they were priced at', async () => {
    const admin = await createUser(db, { role: 'admin' });
    const user = await createUser(db, { credits: 500 });
    const caller = callerFor(db, user);
    await Promise.all([
      ...Array.from({ length: 10 }, () => caller.generations.create({ kind: 'logo', input: logo })),
      callerFor(db, admin).admin.settings.update({ featureCosts: { logo_generation: 2 } }),
      ...Array.from({ length: 10 }, () => caller.generations.create({ kind: 'logo', input: logo })),
    ]);
    // db:verify: each unit cost is its version's, in force when the generation was created.
    await expectClean(user);
    await callerFor(db, admin).admin.settings.update({ featureCosts: { logo_generation: 1 } });
    await waitForLogoCost(1);
  });
});

describe('API key budgets', () => {
  async function keyFor(user: TestUser, maxCreditsPerDay: number | null) {
    const key = await callerFor(db, user).apiKeys.create({
      name: 'worker',
      scopes: ['generations:write'],
      maxCreditsPerDay,
    });
    const viaKey = callerFor(db, user, {
      authMethod: 'bearer',
      apiKeyId: key.id,
      scopes: ['generations:write'],
    });
    return { key, viaKey };
  }

  it('refuses what goes past the day’s budget under 25 parallel creates: exactly the budget is held', async () => {
    const user = await createUser(db, { credits: 1000 });
    const { key, viaKey } = await keyFor(user, 10);
    const results = await Promise.allSettled(
      Array.from({ length: 25 }, () => viaKey.generations.create({ kind: 'logo', input: logo })),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(10);
    for (const result of results) {
      if (result.status === 'rejected') {
        expect(result.reason).toMatchObject({ code: 'TOO_MANY_REQUESTS' });
        expect(String(result.reason.message)).toMatch(/daily budget is 10 credits.*00:00 UTC/);
      }
    }
    const [listed] = await callerFor(db, user).apiKeys.list();
    expect(listed).toMatchObject({ id: key.id, maxCreditsPerDay: 10, spentToday: 10 });
    // A session is not bound by the key's budget; the balance only.
    await callerFor(db, user).generations.create({ kind: 'logo', input: logo });
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({ held: 11 });
    await expectClean(user);
  });

  it('a released hold gives its credits back to the day; a raised budget lets more through', async () => {
    const user = await createUser(db, { credits: 1000 });
    const { key, viaKey } = await keyFor(user, 4);
    const first = await viaKey.generations.create({ kind: 'logo', input: logo, outputCount: 4 });
    expect((await failureOf(viaKey.generations.create({ kind: 'logo', input: logo }))).code).toBe(
      'TOO_MANY_REQUESTS',
    );
    await callerFor(db, user).generations.cancel({ id: first.id });
    expect((await callerFor(db, user).apiKeys.list())[0]).toMatchObject({ spentToday: 0 });
    await viaKey.generations.create({ kind: 'logo', input: logo, outputCount: 3 });
    const updated = await callerFor(db, user).apiKeys.update({ id: key.id, maxCreditsPerDay: 20 });
    expect(updated).toMatchObject({ maxCreditsPerDay: 20, spentToday: 3 });
    await viaKey.generations.create({ kind: 'logo', input: logo, outputCount: 8 });
    // Budget removed: only the balance limits the key.
    await callerFor(db, user).apiKeys.update({ id: key.id, maxCreditsPerDay: null });
    await viaKey.generations.create({ kind: 'logo', input: logo, outputCount: 8 });
    expect((await callerFor(db, user).apiKeys.list())[0]).toMatchObject({
      maxCreditsPerDay: null,
      spentToday: 19,
    });
    // The balance is checked too: PAYMENT_REQUIRED, the day's spend unchanged.
    const poor = await createUser(db, { credits: 2 });
    const poorKey = await keyFor(poor, 10);
    const short = await failureOf(
      poorKey.viaKey.generations.create({ kind: 'logo', input: logo, outputCount: 3 }),
    );
    expect(short.code).toBe('PAYMENT_REQUIRED');
    expect((await callerFor(db, poor).apiKeys.list())[0]).toMatchObject({ spentToday: 0 });
    await expectClean(user);
  });

  it('validates budgets with field errors, and only the owner can change a live key', async () => {
    const user = await createUser(db, { credits: 10 });
    const caller = callerFor(db, user);
    for (const bad of [0, -5, 2.5, 20_000_000]) {
      const created = await failureOf(
        caller.apiKeys.create({ name: 'bad', scopes: ['read'], maxCreditsPerDay: bad }),
      );
      expect(created.code).toBe('BAD_REQUEST');
      expect(created.data.fieldErrors).toHaveProperty('maxCreditsPerDay');
    }
    const { key } = await keyFor(user, 5);
    const bad = await failureOf(caller.apiKeys.update({ id: key.id, maxCreditsPerDay: 0 }));
    expect(bad.data.fieldErrors).toHaveProperty('maxCreditsPerDay');
    expect((await failureOf(caller.apiKeys.update({ id: key.id }))).code).toBe('BAD_REQUEST');
    const stranger = callerFor(db, await createUser(db));
    expect((await failureOf(stranger.apiKeys.update({ id: key.id, maxCreditsPerDay: 50 }))).code).toBe(
      'NOT_FOUND',
    );
    await caller.apiKeys.revoke({ id: key.id });
    expect((await failureOf(caller.apiKeys.update({ id: key.id, maxCreditsPerDay: 50 }))).code).toBe(
      'CONFLICT',
    );
    expect((await caller.apiKeys.list())[0]).toMatchObject({ maxCreditsPerDay: 5, name: 'worker' });
  });
});
