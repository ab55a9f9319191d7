// A refund goes back where the charge came from: what a generation drew from expiring grants
// returns to those grants with their expiry (never turned into credits that never expire); a part
// whose grant has expired (or was clawed back) meanwhile is forfeited, recorded, not returned.
import { describe, expect, it } from 'vitest';
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

describe('refunds of generations paid from expiring grants', () => {
  it('return to the same grant with the same expiry, so they still expire', async () => {
    const user = await createUser(db, { credits: 0 });
    const expiresAt = inAnHour();
    await withGrant(user, 10, expiresAt);
    const caller = callerFor(db, user);
    const generation = await caller.generations.create({ kind: 'logo', input: logo, outputCount: 4 });
    expect((await grantOf(user)).remaining).toBe(6);
    await Promise.all([
      caller.generations.cancel({ id: generation.id }).catch(() => null),
      caller.generations.cancel({ id: generation.id }).catch(() => null),
    ]);
    expect(await grantOf(user)).toMatchObject({ remaining: 10 });
    expect((await grantOf(user)).expiresAt.getTime()).toBe(expiresAt.getTime());
    expect(await em().count(CreditTransaction, { user: user.id, type: 'refund' })).toBe(1);
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 10 });
    // When the grant expires, the refunded credits go with it: nothing became permanent.
    await credits.expireGrants(em(), { now: new Date(expiresAt.getTime() + 1000) });
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 0 });
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });

  it('do not return the part whose grant has expired meanwhile', async () => {
    const user = await createUser(db, { credits: 1 });
    await withGrant(user, 3, inAnHour());
    const caller = callerFor(db, user);
    const generation = await caller.generations.create({ kind: 'logo', input: logo, outputCount: 4 });
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 0 });
    // Time passes: the grant has expired (and the expiry job swept what was left: nothing).
    await em().execute(
      "update credit_grants set expires_at = now() - interval '1 minute' where user_id = ?",
      [user.id],
    );
    await credits.expireGrants(em());
    await caller.generations.cancel({ id: generation.id });
    // The credit that never expires comes back; the 3 from the expired grant are forfeited.
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 1 });
    const [refund] = await em().find(CreditTransaction, { user: user.id, type: 'refund' });
    expect(refund).toMatchObject({ amount: 1, metadata: { forfeited: 3 } });
    expect(await em().find(CreditGrantAllocation, { user: user.id })).toMatchObject([
      { amount: 3, returned: 0, forfeited: 3 },
    ]);
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });

  it('write no refund row when the whole charge was forfeited, and db:verify accepts it', async () => {
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
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 0 });
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });
});
