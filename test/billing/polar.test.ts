// Polar end to end, with only Polar configured: checkout through Polar's checkout API (a loopback
// server speaking it) with the price and credits fixed; plans linked to Polar products in
// admin.plans.upsert; subscription.* and the cycle's order.paid granting the plan's credits like
// Stripe's invoice.paid; order.refunded clawing back; plan changes, cancel and the customer portal
// through Polar's API. Webhooks signed with the standardwebhooks SDK.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyInvariants } from '../../server/db/verify.ts';
import { Payment } from '../../server/modules/billing/payment.entity.ts';
import { createPolarClient } from '../../server/modules/billing/polar-client.ts';
import { CreditGrant } from '../../server/modules/credits/credit-grant.entity.ts';
import { CreditTransaction } from '../../server/modules/credits/credit-transaction.entity.ts';
import { postPolar } from '../support/billing-events.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { failureOf } from '../support/errors.ts';
import { createPackage, createUser, type TestUser } from '../support/factories.ts';
import { type FakePolar, signedPolarEvent, startFakePolar } from '../support/fake-polar.ts';
import { setupTestServer } from '../support/http.ts';

const SECRET = `polar_whs_${randomBytes(12).toString('hex')}`;
let polar: FakePolar;
beforeAll(async () => {
  polar = await startFakePolar();
});
afterAll(() => polar?.close());
const db = setupTestDatabase({
  env: { POLAR_ACCESS_TOKEN: 'set', POLAR_WEBHOOK_SECRET: SECRET },
  get polar() {
    return createPolarClient({
      polar: { accessToken: polar.accessToken, apiBase: polar.url, webhookSecret: SECRET },
    });
  },
});
const server = setupTestServer(db);
const em = () => db.orm.em.fork();
const deliver = (type: string, data: Record<string, unknown>, id?: string) =>
  postPolar(server, signedPolarEvent(SECRET, { type, timestamp: new Date().toISOString(), data }, { id }));
const iso = (ms: number) => new Date(ms).toISOString();

function polarSubscription(user: TestUser, fields: Record<string, unknown> = {}) {
  const start = Date.now() - 60_000;
  return {
    id: randomUUID(),
    status: 'active',
    amount: 2900,
    currency: 'usd',
    recurring_interval: 'month',
    current_period_start: iso(start),
    current_period_end: iso(start + 30 * 86_400_000),
    cancel_at_period_end: false,
    canceled_at: null,
    modified_at: iso(start),
    customer_id: `polar_cus_${user.id}`,
    customer: { id: `polar_cus_${user.id}`, external_id: user.id },
    pending_update: null,
    metadata: {},
    ...fields,
  };
}

async function linkedPlans() {
  const admin = await createUser(db, { role: 'admin' });
  const tag = randomBytes(3).toString('hex');
  const products = { basic: randomUUID(), pro: randomUUID(), proYearly: randomUUID() };
  const upsert = (key: string, credits: number, price: number, monthly: string, yearly: string | null) =>
    callerFor(db, admin).admin.plans.upsert({
      key: `${key}-${tag}`,
      name: key === 'pro' ? 'Pro' : 'Basic',
      creditsPerPeriod: credits,
      priceMonthlyCents: price,
      priceYearlyCents: price * 10,
      billingSource: 'polar',
      polarProductMonthlyId: monthly,
      polarProductYearlyId: yearly,
    });
  const basic = await upsert('basic', 500, 900, products.basic, null);
  const pro = await upsert('pro', 2500, 2900, products.pro, products.proYearly);
  return { admin, basic, pro, products };
}

describe('Polar end to end', () => {
  it('links plans to Polar products, one plan per product', async () => {
    const { admin, basic, pro, products } = await linkedPlans();
    expect(pro).toMatchObject({
      polarProductMonthlyId: products.pro,
      polarProductYearlyId: products.proYearly,
    });
    const clash = await failureOf(
      callerFor(db, admin).admin.plans.upsert({
        id: basic.id,
        key: basic.key,
        name: basic.name,
        creditsPerPeriod: 500,
        priceMonthlyCents: 900,
        priceYearlyCents: 9000,
        polarProductMonthlyId: products.pro,
      }),
    );
    expect(clash.code).toBe('CONFLICT');
    expect(clash.data.fieldErrors).toMatchObject({
      polarProductMonthlyId: ['Already linked to another plan'],
    });
  });

  it('sells a package through Polar’s checkout at the recorded price, and credits what was sold', async () => {
    const user = await createUser(db, { credits: 0 });
    const admin = await createUser(db, { role: 'admin' });
    const product = randomUUID();
    const pkg = await createPackage(db, {
      name: 'Polar pack',
      credits: 250,
      priceCents: 1000,
      polarProductId: product,
    });
    const caller = callerFor(db, user);
    const result = await caller.billing.checkout({ kind: 'package', packageId: pkg.id });
    expect(result).toMatchObject({ provider: 'polar', change: null });
    expect(result.url).toMatch(new RegExp(`^${polar.url}/checkout/`));
    const checkout = polar.checkouts.at(-1) as Record<string, unknown>;
    expect(checkout).toMatchObject({
      products: [product],
      prices: { [product]: [{ amount_type: 'fixed', price_amount: 1000, price_currency: 'usd' }] },
      external_customer_id: user.id,
      customer_email: user.email,
      metadata: { userId: user.id, packageId: pkg.id, credits: '250' },
    });
    // An admin edits the package before the order is paid: the buyer still gets what was sold.
    await callerFor(db, admin).admin.packages.upsert({
      id: pkg.id,
      name: 'Polar pack',
      credits: 25,
      priceCents: 1000,
      polarProductId: product,
    });
    const order = {
      id: randomUUID(),
      status: 'paid',
      billing_reason: 'purchase',
      product_id: product,
      total_amount: 1000,
      refunded_amount: 0,
      currency: 'usd',
      subscription_id: null,
      metadata: checkout.metadata,
      customer: { id: 'polar_cus_1', external_id: user.id },
    };
    expect(await Promise.all([deliver('order.paid', order), deliver('order.paid', order)])).toEqual([
      200, 200,
    ]);
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 250 });
    expect((await caller.billing.payments({})).items[0]).toMatchObject({
      provider: 'polar',
      description: 'Polar pack — 250 credits',
    });

    // Refunded in two steps (cumulative refunded_amount), replayed: 250 clawed back once.
    expect(
      await deliver('order.refunded', { ...order, status: 'partially_refunded', refunded_amount: 400 }),
    ).toBe(200);
    expect(await deliver('order.refunded', { ...order, status: 'refunded', refunded_amount: 1000 })).toBe(
      200,
    );
    expect(
      await deliver('order.refunded', { ...order, status: 'partially_refunded', refunded_amount: 400 }),
    ).toBe(200);
    expect(
      (await em().find(CreditTransaction, { user: user.id, type: 'clawback' })).map((t) => t.amount),
    ).toEqual([-100, -150]);
    expect(await em().findOneOrFail(Payment, { externalPaymentId: order.id })).toMatchObject({
      status: 'refunded',
    });
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 0 });
  });

  it('subscribes through Polar and grants the plan’s credits on the creation and each cycle’s order.paid', async () => {
    const { pro, products } = await linkedPlans();
    const user = await createUser(db, { credits: 0 });
    const caller = callerFor(db, user);
    await expect(
      caller.billing.checkout({ kind: 'plan', planKey: pro.key, interval: 'month' }),
    ).resolves.toMatchObject({ provider: 'polar' });
    expect(polar.checkouts.at(-1)).toMatchObject({
      products: [products.pro],
      metadata: { planKey: pro.key, credits: '2500' },
    });

    const subscription = polarSubscription(user, {
      product_id: products.pro,
      metadata: { planKey: pro.key, credits: 2500 },
    });
    polar.subscriptions.set(subscription.id, structuredClone(subscription));
    expect(await deliver('subscription.created', subscription)).toBe(200);
    const firstOrder = {
      id: randomUUID(),
      billing_reason: 'subscription_create',
      product_id: products.pro,
      total_amount: 2900,
      currency: 'usd',
      subscription_id: subscription.id,
      subscription,
      customer: subscription.customer,
      metadata: {},
    };
    expect(await Promise.all([deliver('order.paid', firstOrder), deliver('order.paid', firstOrder)])).toEqual(
      [200, 200],
    );
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 2500 });
    const [grant] = await em().find(CreditGrant, { user: user.id });
    expect(grant?.expiresAt.toISOString()).toBe(subscription.current_period_end);

    // The next cycle: Polar moves the period and charges again.
    const next = {
      ...subscription,
      current_period_start: subscription.current_period_end,
      current_period_end: iso(Date.parse(subscription.current_period_end) + 30 * 86_400_000),
      modified_at: iso(Date.now()),
    };
    expect(
      await deliver('order.paid', {
        ...firstOrder,
        id: randomUUID(),
        billing_reason: 'subscription_cycle',
        subscription: next,
      }),
    ).toBe(200);
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 5000 });
    const overview = await caller.billing.subscription();
    expect(overview.subscription).toMatchObject({
      provider: 'polar',
      status: 'active',
      plan: { key: pro.key },
    });
    expect(overview.portal).toBe('polar');
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });

  it('changes plan, cancels and opens the customer portal through Polar’s API', async () => {
    const { basic, pro, products } = await linkedPlans();
    const user = await createUser(db, { credits: 0 });
    const subscription = polarSubscription(user, {
      product_id: products.basic,
      metadata: { planKey: basic.key, credits: 500 },
    });
    polar.subscriptions.set(subscription.id, structuredClone(subscription));
    expect(await deliver('subscription.created', subscription)).toBe(200);
    const caller = callerFor(db, user);

    await expect(
      caller.billing.checkout({ kind: 'plan', planKey: pro.key, interval: 'month' }),
    ).resolves.toMatchObject({
      provider: 'polar',
      change: 'upgraded',
    });
    expect(polar.requests.at(-1)).toMatchObject({
      method: 'PATCH',
      path: `/v1/subscriptions/${subscription.id}`,
      body: { product_id: products.pro, proration_behavior: 'invoice' },
    });
    expect((await caller.billing.subscription()).subscription).toMatchObject({ plan: { key: pro.key } });
    // The credit difference for the rest of the period (a minute of it is gone).
    const balance = (await caller.credits.balance()).balance;
    expect(balance).toBeGreaterThan(1990);
    expect(balance).toBeLessThanOrEqual(2000);

    await expect(
      caller.billing.checkout({ kind: 'plan', planKey: basic.key, interval: 'month' }),
    ).resolves.toMatchObject({
      change: 'downgrade_scheduled',
    });
    expect(polar.requests.at(-1)).toMatchObject({
      body: { product_id: products.basic, proration_behavior: 'next_period' },
    });
    expect((await caller.billing.subscription()).subscription).toMatchObject({
      plan: { key: pro.key },
      scheduledChange: { plan: { key: basic.key } },
    });

    await expect(caller.billing.cancelSubscription()).resolves.toMatchObject({
      cancelAtPeriodEnd: true,
      scheduledChange: null,
    });
    expect(polar.requests.at(-1)).toMatchObject({ method: 'PATCH', body: { cancel_at_period_end: true } });

    const portal = await caller.billing.portal();
    expect(portal).toMatchObject({ provider: 'polar', url: `${polar.url}/portal/${user.id}` });
    expect(polar.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: '/v1/customer-sessions/',
      body: { external_customer_id: user.id, return_url: `${db.config.publicUrl}/billing` },
    });
  });

  it('refuses what has no Polar product', async () => {
    const user = await createUser(db);
    const pkg = await createPackage(db);
    const failure = await failureOf(
      callerFor(db, user).billing.checkout({ kind: 'package', packageId: pkg.id }),
    );
    expect(failure.code).toBe('BAD_REQUEST');
    expect(failure.message).toMatch(/not sold through Polar/);
  });
});
