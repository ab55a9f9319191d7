// Held credits go back where they came from: a hold reserves from expiring grants first (soonest
// expiry first), and its release returns each part to its grant with its expiry (never turned into
// credits that never expire); a part whose grant has expired (or was clawed back) meanwhile is
// forfeited — recorded on the allocation and taken from the balance as one `expiration` row, as the
// grant's expiry would have. Generations charged at create before holds existed are still refunded
// the old way (a `refund` row, into the grants), and their usage + refund history stays readable.
import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../server/common/ids.ts';
import { verifyInvariants } from '../../server/db/verify.ts';
import { CreditGrant } from '../../server/modules/credits/credit-grant.entity.ts';
import { CreditGrantAllocation } from '../../server/modules/credits/credit-grant-allocation.entity.ts';
import { CreditTransaction } from '../../server/modules/credits/credit-transaction.entity.ts';
import * as credits from '../../server/modules/credits/credits.service.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { createUser, type TestUser } from '../support/factories.ts';

// No workers: generations stay queued until canceled.
const db = setupTestDatabase();
const em = () => db.orm.em.fork();
const logo = { appName: 'Refunds', appFocus: 'returning credits', color1: '#112233', color2: '#445566' };

async function withGrant(user: TestUser, amount: number, expiresAt: Date) {
  return em().transactional((tx) =>
    credits.grant(tx, user.id, amount, 'promo', { description: 'expiring promo', expiresAt }),
  );
}

const grantOf = (user: TestUser) => em().findOneOrFail(CreditGrant, { user: user.id });
const inAnHour = () => new Date(Date.now() + 3600_000);

describe('released holds of generations paid from expiring grants', () => {
  it('return to the same grant with the same expiry, so they still expire', async () => {
    const user = await createUser(db, { credits: 0 });
    const expiresAt = inAnHour();
    await withGrant(user, 10, expiresAt);
    const caller = callerFor(db, user);
    const generation = await caller.generations.create({ kind: 'logo', input: logo, outputCount: 4 });
    // Reserved from the grant: an expiry now could not take what the hold needs.
    expect((await grantOf(user)).remaining).toBe(6);
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 10, held: 4, available: 6 });
    await Promise.all([
      caller.generations.cancel({ id: generation.id }).catch(() => null),
      caller.generations.cancel({ id: generation.id }).catch(() => null),
    ]);
    expect(await grantOf(user)).toMatchObject({ remaining: 10 });
    expect((await grantOf(user)).expiresAt.getTime()).toBe(expiresAt.getTime());
    expect(await em().count(CreditTransaction, { user: user.id, type: { $in: ['refund', 'usage'] } })).toBe(
      0,
    );
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 10, held: 0, available: 10 });
    // When the grant expires, the released credits go with it: nothing became permanent.
    await credits.expireGrants(em(), { now: new Date(expiresAt.getTime() + 1000) });
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 0 });
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });

  it('do not return the part whose grant has expired meanwhile: it expires as one row', async () => {
    const user = await createUser(db, { credits: 1 });
    await withGrant(user, 3, inAnHour());
    const caller = callerFor(db, user);
    const generation = await caller.generations.create({ kind: 'logo', input: logo, outputCount: 4 });
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 4, held: 4, available: 0 });
    // Time passes: the grant has expired (and the expiry job swept what was left: nothing, it is held).
    await em().execute(
      "update credit_grants set expires_at = now() - interval '1 minute' where user_id = ?",
      [user.id],
    );
    await credits.expireGrants(em());
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 4, held: 4 });
    await caller.generations.cancel({ id: generation.id });
    // The credit that never expires comes back; the 3 from the expired grant are forfeited.
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 1, held: 0, available: 1 });
    expect(await em().count(CreditTransaction, { user: user.id, type: 'refund' })).toBe(0);
    const [expired] = await em().find(CreditTransaction, { user: user.id, type: 'expiration' });
    expect(expired).toMatchObject({ amount: -3 });
    expect(expired?.idempotencyKey).toMatch(/^release:/);
    expect(await em().find(CreditGrantAllocation, { user: user.id })).toMatchObject([
      { amount: 3, returned: 0, forfeited: 3 },
    ]);
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });

  it('write no refund row when the whole hold was forfeited, and db:verify accepts it', async () => {
    const user = await createUser(db, { credits: 0 });
    await withGrant(user, 2, inAnHour());
    const caller = callerFor(db, user);
    const generation = await caller.generations.create({ kind: 'logo', input: logo, outputCount: 2 });
    await em().execute(
      "update credit_grants set expires_at = now() - interval '1 minute' where user_id = ?",
      [user.id],
    );
    await caller.generations.cancel({ id: generation.id });
    await expect(caller.generations.get({ id: generation.id })).resolves.toMatchObject({
      status: 'canceled',
    });
    expect(await em().count(CreditTransaction, { user: user.id, type: 'refund' })).toBe(0);
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 0, held: 0 });
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });
});

describe('generations charged at create, before holds', () => {
  /** A generation as the charge-then-refund code left it: queued, a `usage` row, no hold. */
  async function legacyGeneration(user: TestUser, cost: number) {
    const id = uuidv7();
    await em().transactional(async (tx) => {
      await tx.execute(
        `insert into generations (id, user_id, kind, input, prompt, provider, output_count, credits_charged,
                                  status, attempts, created_at, updated_at)
         values (?, ?, 'logo', ?::jsonb, 'a logo', 'local', ?, ?, 'queued', 0, now(), now())`,
        [id, user.id, JSON.stringify(logo), cost, cost],
      );
      await credits.post(tx, {
        userId: user.id,
        type: 'usage',
        amount: -cost,
        operationType: 'logo_generation',
        generationId: id,
        description: `logo generation (${cost} outputs)`,
      });
    });
    return id;
  }

  it('are refunded once on cancel, into the grants they drew from, and their history stays readable', async () => {
    const user = await createUser(db, { credits: 0 });
    await withGrant(user, 5, inAnHour());
    const id = await legacyGeneration(user, 3);
    const caller = callerFor(db, user);
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 2, held: 0, available: 2 });
    await Promise.all([
      caller.generations.cancel({ id }).catch(() => null),
      caller.generations.cancel({ id }).catch(() => null),
    ]);
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 5, held: 0 });
    expect((await grantOf(user)).remaining).toBe(5);
    const { items } = await caller.credits.transactions({ types: ['usage', 'refund'] });
    expect(items.map((item) => [item.type, item.amount])).toEqual([
      ['refund', 3],
      ['usage', -3],
    ]);
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });
});
