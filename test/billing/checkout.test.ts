// Where billing.checkout sends a buyer (the dev checkout only outside production with no payment
// provider, or DEV_CHECKOUT=true, which production refuses at start), what it sells (credits and
// price fixed when the checkout is offered), and with a Stripe account: cancel/resume returning
// the new state, the billing portal, receipts and what each payment bought.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config.ts';
import { verifyInvariants } from '../../server/db/verify.ts';
import { Checkout } from '../../server/modules/billing/checkout.entity.ts';
import { Payment } from '../../server/modules/billing/payment.entity.ts';
import {
  nowSeconds,
  postStripe,
  randomId,
  stripeCheckoutSession,
  stripeInvoice,
  stripeSubscription,
} from '../support/billing-events.ts';
import { callerFor } from '../support/callers.ts';
import { createTestDatabase, setupTestDatabase } from '../support/database.ts';
import { codeOf, failureOf } from '../support/errors.ts';
import { createPackage, createPlan, createUser } from '../support/factories.ts';
import { type FakeStripe, signedStripeEvent, startFakeStripe } from '../support/fake-stripe.ts';
import { setupTestServer } from '../support/http.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const db = setupTestDatabase();
const em = () => db.orm.em.fork();
const tokenOf = (url: string) => new URL(url, 'http://x').searchParams.get('token') as string;

describe('which checkout a buyer gets', () => {
  it('offers the dev checkout only outside production with no provider, or when asked for explicitly', () => {
    const devCheckout = (env: Record<string, string>) => loadConfig(env).devCheckout;
    expect(devCheckout({ NODE_ENV: 'development' })).toBe(true);
    expect(devCheckout({ NODE_ENV: 'test', STRIPE_WEBHOOK_SECRET: 'whsec_x' })).toBe(true);
    expect(devCheckout({ NODE_ENV: 'development', STRIPE_SECRET_KEY: 'sk_test_x' })).toBe(false);
    expect(devCheckout({ NODE_ENV: 'development', POLAR_ACCESS_TOKEN: 'polar_oat_x' })).toBe(false);
    expect(devCheckout({ NODE_ENV: 'development', DEV_CHECKOUT: 'false' })).toBe(false);
    expect(
      devCheckout({ NODE_ENV: 'development', STRIPE_SECRET_KEY: 'sk_test_x', DEV_CHECKOUT: 'true' }),
    ).toBe(true);
    // The defect: production, webhook secrets set, no key — never the dev checkout.
    expect(
      devCheckout({ NODE_ENV: 'production', STRIPE_WEBHOOK_SECRET: 'whsec_x', POLAR_WEBHOOK_SECRET: 'p' }),
    ).toBe(false);
    expect(() => loadConfig({ NODE_ENV: 'production', DEV_CHECKOUT: 'true' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production', DEV_CHECKOUT: 'true' })).toThrow(
      /DEV_CHECKOUT: refused with NODE_ENV=production/,
    );
  });

  it('refuses to start in production with DEV_CHECKOUT=true, saying why', async () => {
    const child = spawn(process.execPath, ['server/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'production', DEV_CHECKOUT: 'true', DATABASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(output).toContain('DEV_CHECKOUT');
    expect(output).toContain('credits purchases without taking any money');
  });

  describe('in production with webhook secrets but no payment provider key', () => {
    let prod: Awaited<ReturnType<typeof createTestDatabase>>;
    beforeAll(async () => {
      prod = await createTestDatabase({
        env: {
          NODE_ENV: 'production',
          STRIPE_WEBHOOK_SECRET: 'whsec_prod',
          POLAR_WEBHOOK_SECRET: 'polar_prod',
        },
      });
    });
    afterAll(() => prod?.drop());

    it('sells nothing (PRECONDITION_FAILED) and the dev checkout credits nothing', async () => {
      const user = await createUser(prod, { credits: 0 });
      const pkg = await createPackage(prod, { credits: 500 });
      const caller = callerFor(prod, user);
      const failure = await failureOf(caller.billing.checkout({ kind: 'package', packageId: pkg.id }));
      expect(failure.code).toBe('PRECONDITION_FAILED');
      expect(failure.message).toMatch(/no payment provider is configured/);
      expect(
        (
          await failureOf(
            caller.billing.devCheckout.complete({ token: `${'x'.repeat(20)}.${'y'.repeat(43)}` }),
          )
        ).code,
      ).toBe('PRECONDITION_FAILED');
      expect(await prod.orm.em.fork().count(Checkout, { user: user.id })).toBe(0);
      await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 0 });
    });
  });
});

describe('the price and credits are fixed at checkout', () => {
  it('credits what the dev checkout sold although an admin edited the package before the payment', async () => {
    const user = await createUser(db, { credits: 0 });
    const admin = await createUser(db, { role: 'admin' });
    const pkg = await createPackage(db, { name: 'Fixed pack', credits: 300, priceCents: 1500 });
    const caller = callerFor(db, user);
    const { url } = await caller.billing.checkout({ kind: 'package', packageId: pkg.id });
    await callerFor(db, admin).admin.packages.upsert({
      id: pkg.id,
      name: 'Cheaper pack',
      credits: 30,
      priceCents: 100,
    });
    const token = tokenOf(url);
    await expect(caller.billing.devCheckout.get({ token })).resolves.toMatchObject({
      name: 'Fixed pack',
      credits: 300,
      amountCents: 1500,
    });
    await caller.billing.devCheckout.complete({ token });
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 300, totalPurchased: 300 });
    const [payment] = (await caller.billing.payments({})).items;
    expect(payment).toMatchObject({
      amountCents: 1500,
      description: 'Fixed pack — 300 credits',
      status: 'succeeded',
    });
    expect(await em().findOneOrFail(Checkout, { user: user.id })).toMatchObject({ status: 'completed' });
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
  const server = setupTestServer(stripeDb);
  const deliver = (type: string, object: Record<string, unknown>, options?: { created?: number }) =>
    postStripe(server, signedStripeEvent(SECRET, type, object, options));

  it('fixes credits and price in the session and credits what was sold after an admin edit', async () => {
    const user = await createUser(stripeDb, { credits: 0 });
    const admin = await createUser(stripeDb, { role: 'admin' });
    const pkg = await createPackage(stripeDb, { name: 'Sold pack', credits: 400, priceCents: 1200 });
    const result = await callerFor(stripeDb, user).billing.checkout({ kind: 'package', packageId: pkg.id });
    expect(result).toMatchObject({ provider: 'stripe', change: null });
    const session = stripe.sessions.at(-1) as Record<string, unknown>;
    const metadata = session.metadata as Record<string, string>;
    expect(metadata).toMatchObject({ userId: user.id, packageId: pkg.id, credits: '400' });
    expect(session.line_items).toMatchObject({ 0: { price_data: { unit_amount: '1200' } } });
    await callerFor(stripeDb, admin).admin.packages.upsert({
      id: pkg.id,
      name: 'Sold pack',
      credits: 40,
      priceCents: 1200,
    });
    expect(
      await deliver(
        'checkout.session.completed',
        stripeCheckoutSession(user.id, pkg.id, { checkoutId: metadata.checkoutId, amount: 1200 }),
      ),
    ).toBe(200);
    await expect(callerFor(stripeDb, user).credits.balance()).resolves.toMatchObject({ balance: 400 });
  });

  it('returns the new state from cancelSubscription and resumeSubscription', async () => {
    const user = await createUser(stripeDb);
    const plan = await createPlan(stripeDb);
    const subId = randomId('sub');
    const object = stripeSubscription(user.id, subId, { planKey: plan.key, periodStart: nowSeconds() - 60 });
    stripe.subscriptions.set(subId, structuredClone(object) as typeof object & { id: string });
    expect(await deliver('customer.subscription.created', object, { created: nowSeconds() - 60 })).toBe(200);
    const caller = callerFor(stripeDb, user);
    await expect(caller.billing.cancelSubscription()).resolves.toMatchObject({
      status: 'active',
      cancelAtPeriodEnd: true,
    });
    expect(stripe.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: `/v1/subscriptions/${subId}`,
      body: { cancel_at_period_end: 'true' },
    });
    await expect(caller.billing.subscription()).resolves.toMatchObject({
      subscription: { cancelAtPeriodEnd: true },
    });
    await expect(caller.billing.resumeSubscription()).resolves.toMatchObject({ cancelAtPeriodEnd: false });
    await expect(caller.billing.subscription()).resolves.toMatchObject({
      subscription: { cancelAtPeriodEnd: false },
    });
  });

  it('opens the Stripe billing portal for the customer, and says NOT_FOUND without one', async () => {
    const user = await createUser(stripeDb);
    const pkg = await createPackage(stripeDb);
    expect(await codeOf(callerFor(stripeDb, user).billing.portal())).toBe('NOT_FOUND');
    await expect(callerFor(stripeDb, user).billing.subscription()).resolves.toMatchObject({ portal: null });
    expect(await deliver('checkout.session.completed', stripeCheckoutSession(user.id, pkg.id))).toBe(200);
    await expect(callerFor(stripeDb, user).billing.subscription()).resolves.toMatchObject({
      portal: 'stripe',
    });
    const { url, provider } = await callerFor(stripeDb, user).billing.portal();
    expect(provider).toBe('stripe');
    expect(url).toMatch(new RegExp(`^${stripe.url}/portal/bps_`));
    expect(stripe.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: '/v1/billing_portal/sessions',
      body: {
        customer: `cus_${user.id.replaceAll('-', '')}`,
        return_url: `${stripeDb.config.publicUrl}/billing`,
      },
    });
  });

  it('shows what each payment bought and its receipt or invoice', async () => {
    const user = await createUser(stripeDb, { credits: 0 });
    const pkg = await createPackage(stripeDb, { name: 'Receipt pack', credits: 100 });
    const plan = await createPlan(stripeDb, { name: 'Receipt plan', creditsPerPeriod: 50 });
    const intent = randomId('pi');
    stripe.paymentIntents.set(intent, {
      id: intent,
      object: 'payment_intent',
      latest_charge: {
        id: `ch_${intent}`,
        object: 'charge',
        receipt_url: `https://pay.stripe.com/receipts/${intent}`,
      },
    });
    expect(
      await deliver(
        'checkout.session.completed',
        stripeCheckoutSession(user.id, pkg.id, { paymentIntent: intent }),
      ),
    ).toBe(200);
    const subId = randomId('sub');
    expect(
      await deliver(
        'customer.subscription.created',
        stripeSubscription(user.id, subId, { planKey: plan.key }),
        {
          created: nowSeconds() - 5,
        },
      ),
    ).toBe(200);
    expect(
      await deliver(
        'invoice.paid',
        stripeInvoice(subId, { hostedUrl: 'https://invoice.stripe.com/i/acct_1/test' }),
      ),
    ).toBe(200);
    const payments = (await callerFor(stripeDb, user).billing.payments({})).items;
    expect(payments).toHaveLength(2);
    expect(payments.find((p) => p.kind === 'credit_package')).toMatchObject({
      description: 'Receipt pack — 100 credits',
      receiptUrl: `https://pay.stripe.com/receipts/${intent}`,
    });
    expect(payments.find((p) => p.kind === 'subscription')).toMatchObject({
      description: 'Receipt plan plan, monthly',
      receiptUrl: 'https://invoice.stripe.com/i/acct_1/test',
    });
    const row = await stripeDb.orm.em.fork().findOneOrFail(Payment, { externalPaymentId: intent });
    expect(row.chargeId).toBe(`ch_${intent}`);
    expect(await verifyInvariants(stripeDb.orm.em.fork(), { userIds: [user.id] })).toEqual([]);
  });
});
