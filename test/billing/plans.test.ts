// Subscriptions with real money: one live subscription per user (schema-enforced), plan changes on
// the same subscription (upgrade now with the prorated credit difference once, downgrade at period
// end), yearly plans granting every month once, and state that never goes backwards on
// same-second ties. Through the dev checkout's signed events, raw signed Stripe events, and the
// real Stripe SDK against a loopback Stripe.
import { randomBytes } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../server/common/ids.ts';
import { verifyInvariants } from '../../server/db/verify.ts';
import { AuditLog } from '../../server/modules/audit/audit-log.entity.ts';
import { runBillingCycle } from '../../server/modules/billing/billing-cycle.ts';
import { Payment } from '../../server/modules/billing/payment.entity.ts';
import { stripeWebhookSecret } from '../../server/modules/billing/payment-webhooks.ts';
import { Subscription } from '../../server/modules/billing/subscription.entity.ts';
import { addMonths } from '../../server/modules/billing/subscriptions.service.ts';
import { CreditGrant } from '../../server/modules/credits/credit-grant.entity.ts';
import { CreditTransaction } from '../../server/modules/credits/credit-transaction.entity.ts';
import * as credits from '../../server/modules/credits/credits.service.ts';
import {
  nowSeconds,
  postStripe,
  randomId,
  stripeInvoice,
  stripeSubscription,
} from '../support/billing-events.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase, type TestDatabase } from '../support/database.ts';
import { codeOf } from '../support/errors.ts';
import { createPlan, createUser, type TestUser } from '../support/factories.ts';
import { type FakeStripe, signedStripeEvent, startFakeStripe } from '../support/fake-stripe.ts';
import { setupTestServer } from '../support/http.ts';

const db = setupTestDatabase();
const server = setupTestServer(db);
const em = () => db.orm.em.fork();
const tokenOf = (url: string) => new URL(url, 'http://x').searchParams.get('token') as string;
const cycleDeps = (d: TestDatabase) => ({
  orm: d.orm,
  config: d.config,
  stripe: d.runtime.stripe,
  polar: d.runtime.polar,
});

async function subscribe(user: TestUser, planKey: string, interval: 'month' | 'year' = 'month') {
  const caller = callerFor(db, user);
  const { url } = await caller.billing.checkout({ kind: 'plan', planKey, interval });
  await caller.billing.devCheckout.complete({ token: tokenOf(url) });
  return caller;
}

const liveSubscriptions = (userId: string) =>
  em().find(
    Subscription,
    { user: userId, status: { $in: ['trialing', 'active', 'past_due'] } },
    { populate: ['plan'] },
  );

describe('changing plan through the dev checkout', () => {
  it('upgrades the same subscription now, granting the credit difference for the rest of the period once', async () => {
    const user = await createUser(db, { credits: 0 });
    const basic = await createPlan(db, {
      key: `basic-${randomBytes(3).toString('hex')}`,
      creditsPerPeriod: 500,
      priceMonthlyCents: 900,
    });
    const pro = await createPlan(db, {
      key: `pro-${randomBytes(3).toString('hex')}`,
      creditsPerPeriod: 2500,
      priceMonthlyCents: 2900,
    });
    const caller = await subscribe(user, basic.key);
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 500 });

    // Two tabs choosing Pro at once: one upgrade, the other sees it done.
    const results = await Promise.allSettled([
      caller.billing.checkout({ kind: 'plan', planKey: pro.key, interval: 'month' }),
      caller.billing.checkout({ kind: 'plan', planKey: pro.key, interval: 'month' }),
    ]);
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    expect(fulfilled).toHaveLength(1);
    expect(fulfilled[0]).toMatchObject({
      value: { change: 'upgraded', url: '/billing?plan=upgraded', provider: 'dev' },
    });
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'CONFLICT' } });

    const live = await liveSubscriptions(user.id);
    expect(live).toHaveLength(1);
    expect(live[0]?.plan?.key).toBe(pro.key);
    expect(await em().count(Subscription, { user: user.id })).toBe(1);
    // 2,000 more credits for (all but a few seconds of) the period, expiring with it.
    const balance = (await caller.credits.balance()).balance;
    expect(balance).toBeGreaterThanOrEqual(2499);
    expect(balance).toBeLessThanOrEqual(2500);
    const grants = await em().find(CreditGrant, { user: user.id }, { orderBy: { createdAt: 'asc' } });
    expect(grants.map((g) => g.expiresAt.getTime())).toEqual([
      live[0]?.currentPeriodEnd?.getTime(),
      live[0]?.currentPeriodEnd?.getTime(),
    ]);
    // The proration invoice is a payment of its own, and grants nothing more.
    const payments = await em().find(Payment, { user: user.id }, { orderBy: { createdAt: 'asc' } });
    expect(payments.map((p) => p.description)).toEqual([
      expect.stringContaining('monthly'),
      expect.stringContaining('change of plan'),
    ]);
    expect(await em().count(CreditTransaction, { user: user.id, type: 'subscription_grant' })).toBe(2);

    const overview = await caller.billing.subscription();
    expect(overview.subscription).toMatchObject({
      status: 'active',
      plan: { key: pro.key, creditsPerPeriod: 2500 },
    });
    expect(await codeOf(caller.billing.checkout({ kind: 'plan', planKey: pro.key, interval: 'month' }))).toBe(
      'CONFLICT',
    );
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });

  it('downgrades at the end of the period, can take it back, and renews on the new plan', async () => {
    const user = await createUser(db, { credits: 0 });
    const basic = await createPlan(db, {
      key: `basic-${randomBytes(3).toString('hex')}`,
      creditsPerPeriod: 500,
      priceMonthlyCents: 900,
    });
    const pro = await createPlan(db, {
      key: `pro-${randomBytes(3).toString('hex')}`,
      creditsPerPeriod: 2500,
      priceMonthlyCents: 2900,
    });
    const caller = await subscribe(user, pro.key);
    await expect(
      caller.billing.checkout({ kind: 'plan', planKey: basic.key, interval: 'month' }),
    ).resolves.toMatchObject({
      change: 'downgrade_scheduled',
    });
    let overview = await caller.billing.subscription();
    expect(overview.subscription).toMatchObject({
      plan: { key: pro.key },
      scheduledChange: { plan: { key: basic.key } },
    });
    expect(overview.subscription?.scheduledChange?.at.getTime()).toBe(
      overview.subscription?.currentPeriodEnd?.getTime(),
    );
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 2500 });
    // Choosing the current plan again takes the downgrade back.
    await expect(
      caller.billing.checkout({ kind: 'plan', planKey: pro.key, interval: 'month' }),
    ).resolves.toMatchObject({
      change: 'change_canceled',
    });
    expect((await caller.billing.subscription()).subscription?.scheduledChange).toBeNull();
    await caller.billing.checkout({ kind: 'plan', planKey: basic.key, interval: 'month' });

    // The period ends: the subscription renews on Basic, with Basic's credits for the new period.
    const periodEnd = overview.subscription?.currentPeriodEnd as Date;
    const later = new Date(periodEnd.getTime() + 60_000);
    // (The job runs for every user: other tests' subscriptions renew too; this one renews once.)
    await runBillingCycle(cycleDeps(db), later);
    await runBillingCycle(cycleDeps(db), later);
    overview = await caller.billing.subscription();
    expect(overview.subscription).toMatchObject({
      status: 'active',
      plan: { key: basic.key },
      scheduledChange: null,
    });
    expect(overview.subscription?.currentPeriodStart?.getTime()).toBe(periodEnd.getTime());
    const grants = await em().find(CreditGrant, { user: user.id }, { orderBy: { createdAt: 'asc' } });
    expect(grants.map((g) => g.amount)).toEqual([2500, 500]);
    expect(grants[1]?.expiresAt.getTime()).toBe(addMonths(periodEnd, 1).getTime());
    expect(await liveSubscriptions(user.id)).toHaveLength(1);
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });

  it('ends a subscription set to cancel at its period end', async () => {
    const user = await createUser(db, { credits: 0 });
    const plan = await createPlan(db, { creditsPerPeriod: 100 });
    const caller = await subscribe(user, plan.key);
    await caller.billing.cancelSubscription();
    const end = (await caller.billing.subscription()).subscription?.currentPeriodEnd as Date;
    await runBillingCycle(cycleDeps(db), new Date(end.getTime() + 1000));
    expect((await caller.billing.subscription()).subscription).toMatchObject({ status: 'canceled' });
    expect(await liveSubscriptions(user.id)).toHaveLength(0);
  });
});

describe('at most one live subscription per user', () => {
  it('is enforced by the schema', async () => {
    const user = await createUser(db);
    const plan = await createPlan(db);
    const insert = (status: string) =>
      em().execute(
        `insert into subscriptions (id, user_id, plan_id, provider, external_subscription_id, status, interval_count,
                                    cancel_at_period_end, provider_updated_at, created_at, updated_at)
         values (?, ?, ?, 'stripe', ?, ?, 1, false, now(), now(), now())`,
        [uuidv7(), user.id, plan.id, randomId('sub'), status],
      );
    await insert('active');
    await insert('canceled');
    await expect(insert('past_due')).rejects.toBeInstanceOf(UniqueConstraintViolationException);
  });

  it('stores a second subscription from the provider as canceled, and tells the admins', async () => {
    const user = await createUser(db, { credits: 0 });
    const plan = await createPlan(db, { creditsPerPeriod: 100 });
    const secret = await stripeWebhookSecret(db.deps, em());
    const first = randomId('sub');
    const second = randomId('sub');
    const deliver = (type: string, object: Record<string, unknown>, created: number) =>
      postStripe(server, signedStripeEvent(secret, type, object, { created }));
    const t = nowSeconds();
    expect(
      await deliver(
        'customer.subscription.created',
        stripeSubscription(user.id, first, { planKey: plan.key }),
        t,
      ),
    ).toBe(200);
    // Concurrent deliveries of the second one, twice each.
    const duplicate = signedStripeEvent(
      secret,
      'customer.subscription.created',
      stripeSubscription(user.id, second, { planKey: plan.key }),
      { created: t },
    );
    expect(await Promise.all([postStripe(server, duplicate), postStripe(server, duplicate)])).toEqual([
      200, 200,
    ]);
    // A later update of the duplicate cannot revive it either.
    expect(
      await deliver(
        'customer.subscription.updated',
        stripeSubscription(user.id, second, { planKey: plan.key }),
        t + 5,
      ),
    ).toBe(200);
    const rows = await em().find(Subscription, { user: user.id });
    expect(rows.find((r) => r.externalSubscriptionId === first)?.status).toBe('active');
    expect(rows.find((r) => r.externalSubscriptionId === second)?.status).toBe('canceled');
    expect(
      await em().count(AuditLog, {
        action: 'billing.duplicate_subscription',
        targetId: rows.find((r) => r.externalSubscriptionId === second)?.id,
      }),
    ).toBe(1);
  });
});

describe('same-second events never move a subscription backwards', () => {
  const secret = () => stripeWebhookSecret(db.deps, em());

  it.each([
    ['deleted, then updated: active', ['customer.subscription.deleted', 'customer.subscription.updated']],
    ['updated: active, then deleted', ['customer.subscription.updated', 'customer.subscription.deleted']],
  ])('keeps canceled terminal (%s, same second)', async (_name, order) => {
    const user = await createUser(db);
    const plan = await createPlan(db);
    const subId = randomId('sub');
    const t = nowSeconds();
    const events = {
      'customer.subscription.deleted': signedStripeEvent(
        await secret(),
        'customer.subscription.deleted',
        stripeSubscription(user.id, subId, { planKey: plan.key, status: 'canceled' }),
        { created: t },
      ),
      'customer.subscription.updated': signedStripeEvent(
        await secret(),
        'customer.subscription.updated',
        stripeSubscription(user.id, subId, { planKey: plan.key, status: 'active' }),
        { created: t },
      ),
    } as Record<string, { payload: string; signature: string }>;
    for (const type of order) expect(await postStripe(server, events[type] as never)).toBe(200);
    // And a replay of the revival, and a later one: still canceled.
    expect(await postStripe(server, events['customer.subscription.updated'] as never)).toBe(200);
    expect(
      await postStripe(
        server,
        signedStripeEvent(
          await secret(),
          'customer.subscription.updated',
          stripeSubscription(user.id, subId, { planKey: plan.key }),
          { created: t + 30 },
        ),
      ),
    ).toBe(200);
    expect((await em().findOneOrFail(Subscription, { externalSubscriptionId: subId })).status).toBe(
      'canceled',
    );
  });

  it.each([
    ['updated: active, then created: incomplete', ['updated', 'created']],
    ['created: incomplete, then updated: active', ['created', 'updated']],
  ])('decides by status precedence, not arrival (%s)', async (_name, order) => {
    const user = await createUser(db);
    const plan = await createPlan(db);
    const subId = randomId('sub');
    const t = nowSeconds();
    const events = {
      created: signedStripeEvent(
        await secret(),
        'customer.subscription.created',
        stripeSubscription(user.id, subId, { planKey: plan.key, status: 'incomplete' }),
        { created: t },
      ),
      updated: signedStripeEvent(
        await secret(),
        'customer.subscription.updated',
        stripeSubscription(user.id, subId, { planKey: plan.key, status: 'active' }),
        { created: t },
      ),
    } as Record<string, { payload: string; signature: string }>;
    for (const name of order) expect(await postStripe(server, events[name] as never)).toBe(200);
    expect((await em().findOneOrFail(Subscription, { externalSubscriptionId: subId })).status).toBe('active');
  });
});

describe('yearly plans grant every month', () => {
  it('grants the first month at once and each next month once, whatever retries run', async () => {
    const user = await createUser(db, { credits: 0 });
    const plan = await createPlan(db, { creditsPerPeriod: 500, priceYearlyCents: 9000 });
    const caller = await subscribe(user, plan.key, 'year');
    const sub = (await caller.billing.subscription()).subscription;
    const start = sub?.currentPeriodStart as Date;
    expect(sub?.currentPeriodEnd?.getTime()).toBe(addMonths(start, 12).getTime());
    let grants = await em().find(CreditGrant, { user: user.id }, { orderBy: { expiresAt: 'asc' } });
    expect(grants.map((g) => g.amount)).toEqual([500]);
    expect(grants[0]?.expiresAt.getTime()).toBe(addMonths(start, 1).getTime());
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 500 });

    // Within the first month: nothing more.
    await expect(runBillingCycle(cycleDeps(db), new Date(start.getTime() + 3600_000))).resolves.toMatchObject(
      { monthlyGrants: 0 },
    );
    // The second month: one grant, however many runs (concurrent or repeated) see it.
    const month2 = new Date(addMonths(start, 1).getTime() + 3600_000);
    await credits.expireGrants(em(), { now: month2 });
    const runs = await Promise.all([1, 2, 3].map(() => runBillingCycle(cycleDeps(db), month2)));
    expect(runs.reduce((sum, run) => sum + run.monthlyGrants, 0)).toBe(1);
    await expect(runBillingCycle(cycleDeps(db), month2)).resolves.toMatchObject({ monthlyGrants: 0 });
    // The twelfth month, skipping those nobody ran: its own grant, expiring at the period's end.
    const month12 = new Date(addMonths(start, 11).getTime() + 3600_000);
    await credits.expireGrants(em(), { now: month12 });
    await runBillingCycle(cycleDeps(db), month12);
    grants = await em().find(CreditGrant, { user: user.id }, { orderBy: { expiresAt: 'asc' } });
    expect(grants.map((g) => g.expiresAt.getTime())).toEqual([
      addMonths(start, 1).getTime(),
      addMonths(start, 2).getTime(),
      addMonths(start, 12).getTime(),
    ]);
    expect(grants.map((g) => g.amount)).toEqual([500, 500, 500]);
    expect(await em().count(CreditTransaction, { user: user.id, type: 'subscription_grant' })).toBe(3);
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });
});

describe('with a Stripe account (the real SDK against a loopback Stripe)', () => {
  const SECRET = `whsec_${randomBytes(12).toString('hex')}`;
  let stripe: FakeStripe;
  beforeAll(async () => {
    stripe = await startFakeStripe();
  });
  afterAll(() => stripe?.close());
  const stripeDb = setupTestDatabase({
    env: { STRIPE_SECRET_KEY: 'placeholder', STRIPE_WEBHOOK_SECRET: SECRET },
    get stripe() {
      return stripe.client();
    },
  });
  const stripeServer = setupTestServer(stripeDb);
  const deliver = (type: string, object: Record<string, unknown>, created: number) =>
    postStripe(stripeServer, signedStripeEvent(SECRET, type, object, { created }));

  async function stripeSubscriber(planKey: string, priceId: string) {
    const user = await createUser(stripeDb, { credits: 0 });
    const subId = randomId('sub');
    const object = stripeSubscription(user.id, subId, {
      planKey,
      priceId,
      amount: 900,
      periodStart: nowSeconds() - 3600,
    });
    stripe.subscriptions.set(subId, structuredClone(object) as never);
    expect(await deliver('customer.subscription.created', object, nowSeconds() - 3600)).toBe(200);
    expect(
      await deliver(
        'invoice.paid',
        stripeInvoice(subId, { periodStart: nowSeconds() - 3600 }),
        nowSeconds() - 3600,
      ),
    ).toBe(200);
    return { user, subId, object };
  }

  async function plans() {
    const tag = randomBytes(3).toString('hex');
    const basicPrice = `price_basic_${tag}`;
    const proPrice = `price_pro_${tag}`;
    stripe.prices.push(
      {
        id: basicPrice,
        object: 'price',
        unit_amount: 900,
        currency: 'usd',
        recurring: { interval: 'month', interval_count: 1 },
      },
      {
        id: proPrice,
        object: 'price',
        unit_amount: 2900,
        currency: 'usd',
        recurring: { interval: 'month', interval_count: 1 },
      },
    );
    const basic = await createPlan(stripeDb, {
      key: `basic-${tag}`,
      creditsPerPeriod: 500,
      priceMonthlyCents: 900,
      externalPriceMonthlyId: basicPrice,
    });
    const pro = await createPlan(stripeDb, {
      key: `pro-${tag}`,
      creditsPerPeriod: 2500,
      priceMonthlyCents: 2900,
      externalPriceMonthlyId: proPrice,
    });
    return { basic, pro, basicPrice, proPrice };
  }

  it('upgrades the subscription item with proration, and the echoing webhooks grant nothing twice', async () => {
    const { basic, pro, basicPrice, proPrice } = await plans();
    const { user, subId } = await stripeSubscriber(basic.key, basicPrice);
    const caller = callerFor(stripeDb, user);
    await expect(
      caller.billing.checkout({ kind: 'plan', planKey: pro.key, interval: 'month' }),
    ).resolves.toMatchObject({
      provider: 'stripe',
      change: 'upgraded',
    });
    expect(
      stripe.requests.find((r) => r.method === 'POST' && r.path === `/v1/subscriptions/${subId}`),
    ).toMatchObject({
      body: {
        items: { 0: { id: `si_${subId}`, price: proPrice } },
        proration_behavior: 'always_invoice',
        payment_behavior: 'pending_if_incomplete',
        metadata: { planKey: pro.key, credits: '2500' },
      },
    });
    const upgraded = (await caller.credits.balance()).balance;
    // An hour of a 30-day period is gone: 2,000 × (1 − 1/720) more credits.
    expect(upgraded).toBe(500 + Math.round((2000 * (30 * 24 - 1)) / (30 * 24)));
    // Stripe's own events for the change, replayed and concurrent: nothing more.
    const echo = signedStripeEvent(
      SECRET,
      'customer.subscription.updated',
      stripe.subscriptions.get(subId) as never,
      { created: nowSeconds() - 1 },
    );
    expect(
      await Promise.all([
        postStripe(stripeServer, echo),
        postStripe(stripeServer, echo),
        postStripe(stripeServer, echo),
      ]),
    ).toEqual([200, 200, 200]);
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: upgraded });
    expect((await caller.billing.subscription()).subscription).toMatchObject({ plan: { key: pro.key } });
    expect(await verifyInvariants(stripeDb.orm.em.fork(), { userIds: [user.id] })).toEqual([]);
  });

  it('downgrades at period end through a subscription schedule', async () => {
    const { basic, pro, basicPrice, proPrice } = await plans();
    const { user, subId } = await stripeSubscriber(pro.key, proPrice);
    const caller = callerFor(stripeDb, user);
    await expect(
      caller.billing.checkout({ kind: 'plan', planKey: basic.key, interval: 'month' }),
    ).resolves.toMatchObject({
      change: 'downgrade_scheduled',
    });
    const schedule = [...stripe.schedules.values()].find((s) => s.subscription === subId);
    expect(schedule).toMatchObject({
      end_behavior: 'release',
      phases: {
        0: { items: { 0: { price: proPrice } } },
        1: { items: { 0: { price: basicPrice } }, proration_behavior: 'none' },
      },
    });
    const overview = await caller.billing.subscription();
    expect(overview.subscription).toMatchObject({
      plan: { key: pro.key },
      scheduledChange: { plan: { key: basic.key } },
    });
    // The renewal Stripe sends at period end moves the plan and clears the waiting change.
    const end = Math.floor(Number(overview.subscription?.currentPeriodEnd?.getTime()) / 1000);
    expect(
      await deliver(
        'customer.subscription.updated',
        stripeSubscription(user.id, subId, { priceId: basicPrice, planKey: basic.key, periodStart: end }),
        end,
      ),
    ).toBe(200);
    expect((await caller.billing.subscription()).subscription).toMatchObject({
      plan: { key: basic.key },
      scheduledChange: null,
    });
  });

  it('cancels a duplicate subscription at Stripe', async () => {
    const { basic, basicPrice } = await plans();
    const { user } = await stripeSubscriber(basic.key, basicPrice);
    const second = randomId('sub');
    const object = stripeSubscription(user.id, second, { planKey: basic.key, priceId: basicPrice });
    stripe.subscriptions.set(second, structuredClone(object) as never);
    expect(await deliver('customer.subscription.created', object, nowSeconds())).toBe(200);
    expect(
      stripe.requests.some((r) => r.method === 'DELETE' && r.path === `/v1/subscriptions/${second}`),
    ).toBe(true);
    expect(
      (await stripeDb.orm.em.fork().findOneOrFail(Subscription, { externalSubscriptionId: second })).status,
    ).toBe('canceled');
  });

  it('re-reads the subscription from Stripe when two events share a second', async () => {
    const { basic, basicPrice } = await plans();
    const { user, subId, object } = await stripeSubscriber(basic.key, basicPrice);
    const t = nowSeconds();
    expect(await deliver('customer.subscription.updated', object, t)).toBe(200);
    // Stripe says: not canceling. A same-second event says otherwise; Stripe's word wins.
    const stale = { ...structuredClone(object), cancel_at_period_end: true };
    expect(await deliver('customer.subscription.updated', stale, t)).toBe(200);
    expect(stripe.requests.some((r) => r.method === 'GET' && r.path === `/v1/subscriptions/${subId}`)).toBe(
      true,
    );
    expect((await callerFor(stripeDb, user).billing.subscription()).subscription).toMatchObject({
      cancelAtPeriodEnd: false,
    });
  });
});
