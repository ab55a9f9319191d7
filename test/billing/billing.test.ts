// billing.* procedures: the catalog, the dev checkout (which completes through the signed Stripe
// webhook path), cancel/resume, payments; Polar's order.paid; and checkout and db:sync-stripe
// through the real Stripe SDK against a loopback Stripe.
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyInvariants } from '../../server/db/verify.ts';
import { ensureCustomer } from '../../server/modules/billing/billing.service.ts';
import { CreditPackage } from '../../server/modules/billing/credit-package.entity.ts';
import { Customer } from '../../server/modules/billing/customer.entity.ts';
import { Plan } from '../../server/modules/billing/plan.entity.ts';
import { syncStripeCatalog } from '../../server/modules/billing/stripe-catalog.ts';
import { CreditTransaction } from '../../server/modules/credits/credit-transaction.entity.ts';
import { callerFor } from '../support/callers.ts';
import { createTestDatabase, setupTestDatabase } from '../support/database.ts';
import { codeOf, failureOf } from '../support/errors.ts';
import { createPackage, createPlan, createUser } from '../support/factories.ts';
import { type FakeStripe, startFakeStripe } from '../support/fake-stripe.ts';
import { setupTestServer } from '../support/http.ts';

const POLAR_SECRET = `polar_whs_${randomBytes(12).toString('hex')}`;
const db = setupTestDatabase({ env: { POLAR_WEBHOOK_SECRET: POLAR_SECRET } });
const server = setupTestServer(db);
const em = () => db.orm.em.fork();
const tokenOf = (url: string) => new URL(url, 'http://x').searchParams.get('token') as string;

describe('the catalog', () => {
  it('lists active plans and packages in their order, to anyone', async () => {
    await createPlan(db, { key: 'zz-hidden', active: false });
    const first = await createPlan(db, { key: 'aa-first', sortOrder: -2 });
    await createPackage(db, { name: 'Hidden pack', active: false });
    const pack = await createPackage(db, { name: 'First pack', sortOrder: -2 });
    const anonymous = callerFor(db, null);
    const plans = await anonymous.billing.plans();
    expect(plans[0]?.key).toBe(first.key);
    expect(plans.map((plan) => plan.key)).not.toContain('zz-hidden');
    const packages = await anonymous.billing.packages();
    expect(packages[0]?.id).toBe(pack.id);
    expect(packages.map((p) => p.name)).not.toContain('Hidden pack');
  });
});

describe('the dev checkout (no payment provider configured)', () => {
  it('buys a package through signed Stripe events, crediting once however often it completes', async () => {
    const user = await createUser(db, { credits: 10 });
    const pkg = await createPackage(db, { credits: 300, priceCents: 1500 });
    const caller = callerFor(db, user);
    const { url, provider } = await caller.billing.checkout({ kind: 'package', packageId: pkg.id });
    expect(provider).toBe('dev');
    expect(url).toMatch(/^\/billing\/checkout\?token=/);
    const token = tokenOf(url);
    await expect(caller.billing.devCheckout.get({ token })).resolves.toMatchObject({
      kind: 'package',
      credits: 300,
      amountCents: 1500,
    });
    await Promise.all([
      caller.billing.devCheckout.complete({ token }),
      caller.billing.devCheckout.complete({ token }),
    ]);
    await caller.billing.devCheckout.complete({ token });
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 310, totalPurchased: 300 });
    const payments = await caller.billing.payments({});
    expect(payments.items).toHaveLength(1);
    expect(payments.items[0]).toMatchObject({
      kind: 'credit_package',
      amountCents: 1500,
      status: 'succeeded',
    });
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });

  it('subscribes to a plan: active subscription, expiring grant; cancel and resume', async () => {
    const user = await createUser(db, { credits: 0 });
    const plan = await createPlan(db, { creditsPerPeriod: 700 });
    const caller = callerFor(db, user);
    const { url } = await caller.billing.checkout({ kind: 'plan', planKey: plan.key, interval: 'month' });
    await caller.billing.devCheckout.complete({ token: tokenOf(url) });
    const overview = await caller.billing.subscription();
    expect(overview.subscription).toMatchObject({
      status: 'active',
      cancelAtPeriodEnd: false,
      plan: { key: plan.key },
    });
    expect(overview.grants).toMatchObject([{ amount: 700, remaining: 700 }]);
    expect(overview.grants[0]?.expiresAt.getTime()).toBe(overview.subscription?.currentPeriodEnd?.getTime());
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 700 });

    await expect(caller.billing.cancelSubscription()).resolves.toMatchObject({
      cancelAtPeriodEnd: true,
      status: 'active',
    });
    await expect(caller.billing.resumeSubscription()).resolves.toMatchObject({ cancelAtPeriodEnd: false });
    expect((await caller.billing.payments({})).items).toMatchObject([{ kind: 'subscription' }]);
  });

  it('refuses what cannot be bought, forged or foreign tokens, and bad input', async () => {
    const user = await createUser(db);
    const other = await createUser(db);
    const contactOnly = await createPlan(db, { ctaType: 'contact' });
    const free = await createPlan(db, { priceMonthlyCents: 0 });
    const pkg = await createPackage(db);
    const caller = callerFor(db, user);
    expect(
      (
        await failureOf(
          caller.billing.checkout({ kind: 'plan', planKey: contactOnly.key, interval: 'month' }),
        )
      ).code,
    ).toBe('BAD_REQUEST');
    expect(
      await codeOf(caller.billing.checkout({ kind: 'plan', planKey: free.key, interval: 'month' })),
    ).toBe('BAD_REQUEST');
    expect(
      (await failureOf(caller.billing.checkout({ kind: 'plan', planKey: 'no-such-plan', interval: 'month' })))
        .code,
    ).toBe('NOT_FOUND');
    expect(await codeOf(caller.billing.checkout({ kind: 'package', packageId: 'nope' as string }))).toBe(
      'BAD_REQUEST',
    );
    const { url } = await caller.billing.checkout({ kind: 'package', packageId: pkg.id });
    const token = tokenOf(url);
    expect(await codeOf(callerFor(db, other).billing.devCheckout.complete({ token }))).toBe('NOT_FOUND');
    expect(await codeOf(caller.billing.devCheckout.complete({ token: `${token.slice(0, -4)}AAAA` }))).toBe(
      'BAD_REQUEST',
    );
    expect(await codeOf(caller.billing.cancelSubscription())).toBe('NOT_FOUND');
    expect(await codeOf(callerFor(db, null).billing.subscription())).toBe('UNAUTHORIZED');
    expect(
      await em().count(CreditTransaction, { user: { $in: [user.id, other.id] }, type: 'purchase' }),
    ).toBe(0);
  });
});

describe('a provider customer', () => {
  it('is recorded once when two events of one checkout insert it at the same time', async () => {
    // Both inserts may pass the conflict pre-check before either writes: then only an ON CONFLICT
    // covering every unique key keeps the second from failing on the key it did not name.
    const users = await Promise.all(Array.from({ length: 40 }, () => createUser(db)));
    const results = await Promise.allSettled(
      users.flatMap((user) =>
        [1, 2, 3].map(() =>
          em().transactional((tx) =>
            ensureCustomer(tx, user.id, 'stripe', `cus_${user.id.replaceAll('-', '')}`),
          ),
        ),
      ),
    );
    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
    const rows = await em().find(Customer, { user: { $in: users.map((user) => user.id) } });
    expect(rows).toHaveLength(users.length);
    // A new customer id for the same user replaces the old one.
    const [first] = users;
    if (!first) throw new Error('no user');
    await em().transactional((tx) => ensureCustomer(tx, first.id, 'stripe', 'cus_replaced'));
    expect((await em().find(Customer, { user: first.id })).map((row) => row.externalCustomerId)).toEqual([
      'cus_replaced',
    ]);
  });
});

describe('Polar webhooks', () => {
  const deliver = async (
    body: object,
    secret = POLAR_SECRET,
    id = `msg_${randomBytes(8).toString('hex')}`,
  ) => {
    const payload = JSON.stringify(body);
    const timestamp = new Date();
    const signature = new Webhook(Buffer.from(secret).toString('base64')).sign(id, timestamp, payload);
    const response = await fetch(`${server.baseUrl}/webhooks/polar`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body: payload,
    });
    return response.status;
  };

  it('credits an order.paid once per delivery id and rejects a bad signature', async () => {
    const user = await createUser(db, { credits: 0 });
    const productId = `prod_${randomBytes(6).toString('hex')}`;
    await createPackage(db, { credits: 120, polarProductId: productId });
    const order = {
      type: 'order.paid',
      data: {
        id: `ord_${randomBytes(6).toString('hex')}`,
        product_id: productId,
        total_amount: 700,
        currency: 'usd',
        customer: { external_id: user.id },
      },
    };
    expect(await deliver(order, `wrong_${POLAR_SECRET}`)).toBe(400);
    const id = `msg_${randomBytes(8).toString('hex')}`;
    expect(await Promise.all([deliver(order, POLAR_SECRET, id), deliver(order, POLAR_SECRET, id)])).toEqual([
      200, 200,
    ]);
    // A redelivery under a new message id is still the same order: credited once.
    expect(await deliver(order)).toBe(200);
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({ balance: 120 });
  });
});

describe('with a Stripe account (the real SDK against a loopback Stripe)', () => {
  let stripe: FakeStripe;
  let stripeDb: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    stripe = await startFakeStripe();
    stripeDb = await createTestDatabase({
      env: {
        STRIPE_SECRET_KEY: stripe.secretKey,
        STRIPE_WEBHOOK_SECRET: 'whsec_test',
        STRIPE_API_BASE: stripe.url,
      },
    });
  });
  afterAll(async () => {
    await stripeDb?.drop();
    await stripe?.close();
  });

  it('creates a Checkout Session for the user and returns its URL', async () => {
    const user = await createUser(stripeDb);
    const pkg = await createPackage(stripeDb, { credits: 50, priceCents: 300 });
    const result = await callerFor(stripeDb, user).billing.checkout({ kind: 'package', packageId: pkg.id });
    expect(result.provider).toBe('stripe');
    expect(result.url).toContain(`${stripe.url}/pay/cs_test_`);
    expect(stripe.sessions.at(-1)).toMatchObject({
      mode: 'payment',
      client_reference_id: user.id,
      metadata: { packageId: pkg.id },
    });
  });

  it('db:sync-stripe pulls products and prices into plans and packages', async () => {
    stripe.products.push(
      {
        id: 'prod_plan',
        object: 'product',
        name: 'Scale',
        description: 'For scale',
        active: true,
        metadata: { forgeline_kind: 'plan', plan_key: 'scale', credits_per_period: '9000', features: 'A, B' },
      },
      {
        id: 'prod_pack',
        object: 'product',
        name: 'Mega pack',
        description: null,
        active: true,
        metadata: { forgeline_kind: 'package', credits: '5000' },
      },
      { id: 'prod_other', object: 'product', name: 'T-shirt', description: null, active: true, metadata: {} },
    );
    stripe.prices.push(
      {
        id: 'price_m',
        object: 'price',
        product: 'prod_plan',
        active: true,
        unit_amount: 9900,
        currency: 'eur',
        recurring: { interval: 'month', interval_count: 1 },
      },
      {
        id: 'price_y',
        object: 'price',
        product: 'prod_plan',
        active: true,
        unit_amount: 99000,
        currency: 'eur',
        recurring: { interval: 'year', interval_count: 1 },
      },
      {
        id: 'price_p',
        object: 'price',
        product: 'prod_pack',
        active: true,
        unit_amount: 4000,
        currency: 'eur',
        recurring: null,
      },
    );
    const report = await stripeDb.orm.em.fork().transactional((tx) => syncStripeCatalog(tx, stripe.client()));
    expect(report).toEqual({ plans: 1, packages: 1, skipped: ['prod_other'] });
    const plan = await stripeDb.orm.em.fork().findOneOrFail(Plan, { key: 'scale' });
    expect(plan).toMatchObject({
      creditsPerPeriod: 9000,
      priceMonthlyCents: 9900,
      priceYearlyCents: 99000,
      currency: 'eur',
      externalPriceMonthlyId: 'price_m',
      features: ['A', 'B'],
      billingSource: 'stripe',
    });
    const pack = await stripeDb.orm.em.fork().findOneOrFail(CreditPackage, { stripeProductId: 'prod_pack' });
    expect(pack).toMatchObject({ credits: 5000, priceCents: 4000, stripePriceId: 'price_p', active: true });
    // Syncing again changes nothing and creates nothing new.
    await stripeDb.orm.em.fork().transactional((tx) => syncStripeCatalog(tx, stripe.client()));
    expect(await stripeDb.orm.em.fork().count(Plan, { key: 'scale' })).toBe(1);
  });
});
