// Auto top-up: "when below N credits, buy package P" with a saved card. Once per threshold crossing
// (many parallel spends crossing it buy once; the balance back above N re-arms it), paid
// asynchronously by the auto-top-up job — Stripe's off-session PaymentIntent against a loopback
// Stripe (the real SDK), or the dev checkout's signed events — and credited through the same
// webhook code as any package order, exactly once per payment intent. Declines are recorded,
// shown and mailed, never retried into a storm.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyInvariants } from '../../server/db/verify.ts';
import { AutoTopUpAttempt } from '../../server/modules/billing/auto-top-up.entity.ts';
import { sweepAutoTopUps } from '../../server/modules/billing/auto-top-up.service.ts';
import { Payment } from '../../server/modules/billing/payment.entity.ts';
import * as credits from '../../server/modules/credits/credits.service.ts';
import { Generation } from '../../server/modules/generations/generation.entity.ts';
import { MailOutbox } from '../../server/modules/mail/mail-outbox.entity.ts';
import { customerOf, postStripe, stripeCheckoutSession } from '../support/billing-events.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase, type TestDatabase } from '../support/database.ts';
import { failureOf } from '../support/errors.ts';
import { createPackage, createUser, type TestUser } from '../support/factories.ts';
import { type FakeStripe, signedStripeEvent, startFakeStripe } from '../support/fake-stripe.ts';
import { httpClient, setupTestServer } from '../support/http.ts';
import { waitFor } from '../support/wait.ts';

// The sweep runs when a test calls it (its loop ticks once at start, then hourly).
const HOUR = 3600 * 1000;

function helpers(db: TestDatabase) {
  const em = () => db.orm.em.fork();
  const deps = () => ({
    orm: db.orm,
    config: db.config,
    stripe: db.runtime.stripe,
    polar: db.runtime.polar,
    jobs: db.runtime.jobs,
    logger: db.logger,
  });
  return {
    em,
    deps,
    sweep: () => sweepAutoTopUps(deps()),
    spend: (user: TestUser, amount: number) =>
      em().transactional((tx) => credits.spend(tx, user.id, amount, 'image_generation')),
    balanceOf: async (user: TestUser) => (await callerFor(db, user).credits.balance()).balance,
    attemptsOf: (user: TestUser) =>
      em().find(
        AutoTopUpAttempt,
        { user: user.id },
        { orderBy: { createdAt: 'asc' }, populate: ['checkout'] },
      ),
    purchasesOf: async (user: TestUser) =>
      (await em().find(Payment, { user: user.id }, { orderBy: { createdAt: 'asc' } })).map((p) => ({
        amountCents: p.amountCents,
        description: p.description,
      })),
    /** Waits for the user's latest attempt to settle (the real auto-top-up job). */
    settled: (user: TestUser) =>
      waitFor(
        async () => {
          const rows = await em().find(
            AutoTopUpAttempt,
            { user: user.id },
            { orderBy: { createdAt: 'desc' } },
          );
          return rows[0] && ['succeeded', 'failed'].includes(rows[0].status) ? rows[0] : null;
        },
        { what: 'the auto top-up to settle' },
      ),
  };
}

describe('with the dev checkout', () => {
  const db = setupTestDatabase({ autoTopUpSweepMs: HOUR });
  beforeAll(() => db.runtime.startWorkers());
  const { sweep, spend, balanceOf, attemptsOf, purchasesOf, settled } = helpers(db);

  /** A user who bought a package through the dev checkout (so a "card" is saved), at `balance`. */
  async function cardholder(balance: number) {
    const user = await createUser(db, { credits: 0 });
    const caller = callerFor(db, user);
    const starter = await createPackage(db, { name: 'Starter', credits: 10, priceCents: 300 });
    const { url } = await caller.billing.checkout({ kind: 'package', packageId: starter.id });
    await caller.billing.devCheckout.complete({
      token: new URL(url, 'http://x').searchParams.get('token') as string,
    });
    const have = await balanceOf(user);
    if (have !== balance) {
      await db.orm.em.fork().transactional((tx) =>
        credits.post(tx, {
          userId: user.id,
          type: 'admin_adjustment',
          amount: balance - have,
          description: 'test setup',
        }),
      );
    }
    return user;
  }

  it('needs a saved card to turn on, and says why; bad input is a field error', async () => {
    const user = await createUser(db);
    const caller = callerFor(db, user);
    const pkg = await createPackage(db, { credits: 500, priceCents: 2000 });
    await expect(caller.billing.autoTopUp.get()).resolves.toMatchObject({
      setting: null,
      available: false,
      unavailableReason: expect.stringMatching(/saved card/),
      attempts: [],
    });
    const refused = await failureOf(
      caller.billing.autoTopUp.set({ enabled: true, threshold: 50, packageId: pkg.id }),
    );
    expect(refused.code).toBe('PRECONDITION_FAILED');
    expect(refused.message).toMatch(/saved card/);
    // Off can always be saved.
    await expect(
      caller.billing.autoTopUp.set({ enabled: false, threshold: 50, packageId: pkg.id }),
    ).resolves.toMatchObject({ setting: { enabled: false, threshold: 50, package: { id: pkg.id } } });
    const bad = await failureOf(
      caller.billing.autoTopUp.set({ enabled: true, threshold: 0, packageId: 'not-a-package' }),
    );
    expect(bad.code).toBe('BAD_REQUEST');
    expect(Object.keys(bad.data.fieldErrors ?? {}).sort()).toEqual(['packageId', 'threshold']);
    const archived = await createPackage(db, { active: false });
    const gone = await failureOf(
      caller.billing.autoTopUp.set({ enabled: false, threshold: 5, packageId: archived.id }),
    );
    expect(gone.data.fieldErrors).toEqual({ packageId: ['Pick a package on sale'] });
  });

  it('buys once when many parallel spends cross the threshold, and again after the next crossing', async () => {
    const user = await cardholder(150);
    const caller = callerFor(db, user);
    const pkg = await createPackage(db, { name: 'Refill', credits: 500, priceCents: 2000 });
    await expect(
      caller.billing.autoTopUp.set({ enabled: true, threshold: 100, packageId: pkg.id }),
    ).resolves.toMatchObject({
      available: true,
      setting: { enabled: true, armed: true, paymentMethodLabel: /Dev checkout card/ },
    });
    expect(await sweep()).toMatchObject({ triggered: 0 }); // 150: above the threshold

    // 40 spends of 2 (150 → 70) and sweeps racing them.
    await Promise.all([
      ...Array.from({ length: 40 }, () => spend(user, 2)),
      ...Array.from({ length: 6 }, () => sweep()),
    ]);
    await Promise.all([sweep(), sweep(), sweep()]);
    const first = await settled(user);
    expect(first).toMatchObject({ status: 'succeeded', threshold: 100 });
    expect(await attemptsOf(user)).toHaveLength(1);
    expect(await balanceOf(user)).toBe(70 + 500);
    expect((await purchasesOf(user)).at(-1)).toEqual({
      amountCents: 2000,
      description: 'Refill (auto top-up) — 500 credits',
    });
    // Above the threshold again: armed. Sweeps with nothing new buy nothing.
    await Promise.all([sweep(), sweep()]);
    expect(await attemptsOf(user)).toHaveLength(1);

    // The next crossing buys again — once.
    await Promise.all([...Array.from({ length: 10 }, () => spend(user, 50)), sweep(), sweep()]);
    await Promise.all([sweep(), sweep()]);
    expect(await settled(user)).toMatchObject({ status: 'succeeded' });
    expect(await attemptsOf(user)).toHaveLength(2);
    expect(await balanceOf(user)).toBe(570 - 500 + 500);
    expect(await verifyInvariants(db.orm.em.fork(), { userIds: [user.id] })).toEqual([]);
  });

  it('does not buy again while the balance stays below the threshold after a top-up', async () => {
    const user = await cardholder(30);
    const small = await createPackage(db, { name: 'Tiny', credits: 20, priceCents: 100 });
    await callerFor(db, user).billing.autoTopUp.set({ enabled: true, threshold: 100, packageId: small.id });
    // Already below when saved: bought at the next sweep.
    expect(await sweep()).toMatchObject({ triggered: 1 });
    expect(await settled(user)).toMatchObject({ status: 'succeeded' });
    expect(await balanceOf(user)).toBe(50);
    await spend(user, 5);
    await Promise.all([sweep(), sweep()]);
    expect(await attemptsOf(user)).toHaveLength(1);
    // Saving the setting again is asking for another one.
    await callerFor(db, user).billing.autoTopUp.set({ enabled: true, threshold: 100, packageId: small.id });
    expect(await sweep()).toMatchObject({ triggered: 1 });
    expect(await settled(user)).toMatchObject({ status: 'succeeded' });
    expect(await attemptsOf(user)).toHaveLength(2);
  });

  it('stops when turned off, and never charges a banned user', async () => {
    const user = await cardholder(120);
    const pkg = await createPackage(db, { credits: 100, priceCents: 500 });
    const caller = callerFor(db, user);
    await caller.billing.autoTopUp.set({ enabled: false, threshold: 100, packageId: pkg.id });
    await spend(user, 50);
    expect(await sweep()).toMatchObject({ triggered: 0 });
    await caller.billing.autoTopUp.set({ enabled: true, threshold: 100, packageId: pkg.id });
    await db.orm.em.fork().execute("update users set status = 'banned' where id = ?", [user.id]);
    await spend(user, 1);
    expect(await sweep()).toMatchObject({ triggered: 0 });
    expect(await attemptsOf(user)).toHaveLength(0);
  });
});

const SECRET = `whsec_${randomBytes(12).toString('hex')}`;
let stripe: FakeStripe;
beforeAll(async () => {
  stripe = await startFakeStripe();
});
afterAll(() => stripe?.close());

describe('with Stripe (the real SDK against a loopback Stripe)', () => {
  const db = setupTestDatabase({
    env: { STRIPE_SECRET_KEY: 'placeholder', STRIPE_WEBHOOK_SECRET: SECRET },
    autoTopUpSweepMs: HOUR,
    get stripe() {
      return stripe.client();
    },
  });
  const server = setupTestServer(db);
  beforeAll(() => db.runtime.startWorkers());
  const { em, sweep, spend, balanceOf, attemptsOf, purchasesOf, settled } = helpers(db);
  const deliver = (type: string, object: Record<string, unknown>) =>
    postStripe(server, signedStripeEvent(SECRET, type, object));
  const intentsOf = (user: TestUser) =>
    [...stripe.paymentIntents.values()].filter((intent) => intent.customer === customerOf(user.id));

  /** A Stripe customer (from a paid checkout) with a saved card, at `balance`. */
  async function cardholder(balance: number, card: Parameters<FakeStripe['saveCard']>[1] = 'pm_card_visa') {
    const user = await createUser(db, { credits: balance });
    const pkg = await createPackage(db, { credits: 1, priceCents: 100 });
    expect(
      await deliver('checkout.session.completed', stripeCheckoutSession(user.id, pkg.id, { amount: 100 })),
    ).toBe(200);
    await spend(user, 1); // back to `balance`
    stripe.saveCard(customerOf(user.id), card);
    return user;
  }

  async function armed(user: TestUser, threshold: number, credits = 500, priceCents = 2000) {
    const pkg = await createPackage(db, { name: 'Refill', credits, priceCents });
    return callerFor(db, user).billing.autoTopUp.set({ enabled: true, threshold, packageId: pkg.id });
  }

  it('refuses to turn on without a card saved at Stripe, and shows the card it will charge', async () => {
    const user = await createUser(db);
    const pkg = await createPackage(db, { credits: 500, priceCents: 2000 });
    const caller = callerFor(db, user);
    expect(
      (await failureOf(caller.billing.autoTopUp.set({ enabled: true, threshold: 10, packageId: pkg.id })))
        .code,
    ).toBe('PRECONDITION_FAILED');
    expect(await deliver('checkout.session.completed', stripeCheckoutSession(user.id, pkg.id))).toBe(200);
    stripe.customers.set(customerOf(user.id), {
      id: customerOf(user.id),
      object: 'customer',
      invoice_settings: { default_payment_method: null },
    });
    // A customer, but no card.
    expect(
      (await failureOf(caller.billing.autoTopUp.set({ enabled: true, threshold: 10, packageId: pkg.id })))
        .code,
    ).toBe('PRECONDITION_FAILED');
    // A card that is not the default is still a saved card.
    stripe.saveCard(customerOf(user.id), 'pm_card_visa', { makeDefault: false });
    await expect(
      caller.billing.autoTopUp.set({ enabled: true, threshold: 10, packageId: pkg.id }),
    ).resolves.toMatchObject({
      available: true,
      setting: { enabled: true, paymentMethodLabel: 'Visa •••• 4242' },
    });
  });

  it('charges the default card off-session once for racing spends; the webhook after the API answer credits nothing twice', async () => {
    const user = await cardholder(120);
    await armed(user, 100);
    await Promise.all([
      ...Array.from({ length: 30 }, (_, i) =>
        i % 3 === 0
          ? callerFor(db, user).generations.create({ kind: 'text', input: { prompt: `spend ${i}` } })
          : spend(user, 1),
      ),
      ...Array.from({ length: 5 }, () => sweep()),
    ]);
    await Promise.all([sweep(), sweep()]);
    expect(await settled(user)).toMatchObject({ status: 'succeeded' });
    const [intent, ...more] = intentsOf(user);
    expect(more).toEqual([]);
    expect(intent).toMatchObject({
      amount: 2000,
      currency: 'usd',
      off_session: true,
      status: 'succeeded',
      payment_method: `pm_card_visa__${customerOf(user.id)}`,
      metadata: { userId: user.id, credits: '500' },
    });
    const request = stripe.requests.find((r) => r.path === '/v1/payment_intents');
    expect(request?.body).toMatchObject({ confirm: 'true', off_session: 'true' });
    // The ten generations run on the worker, independently of the top-up: their holds become
    // spending when each finishes (read the balance only then).
    await waitFor(
      async () => {
        const rows = await em().find(Generation, { user: user.id });
        return rows.length === 10 && rows.every((row) => ['succeeded', 'failed'].includes(row.status))
          ? rows
          : null;
      },
      { what: 'the generations to finish' },
    );
    expect(await balanceOf(user)).toBe(90 + 500);
    // Stripe's webhook arrives too, three times at once.
    const statuses = await Promise.all(
      [1, 2, 3].map(() => deliver('payment_intent.succeeded', intent as Record<string, unknown>)),
    );
    expect(statuses).toEqual([200, 200, 200]);
    expect(await balanceOf(user)).toBe(590);
    expect(await attemptsOf(user)).toHaveLength(1);
    expect((await purchasesOf(user)).at(-1)).toEqual({
      amountCents: 2000,
      description: 'Refill (auto top-up) — 500 credits',
    });
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });

  const intentRequestsOf = (user: TestUser) =>
    stripe.requests.filter(
      (r) => r.path === '/v1/payment_intents' && (r.body.metadata as { userId?: string })?.userId === user.id,
    );

  it('never charges twice when Stripe’s answer is lost: the retried job gets the same payment intent', async () => {
    const user = await cardholder(50);
    await armed(user, 100);
    stripe.loseNextPaymentIntentResponses(1);
    // The job's first attempt charges the card but never hears back; pg-boss retries it.
    expect(await sweep()).toMatchObject({ triggered: 1 });
    expect(await settled(user)).toMatchObject({ status: 'succeeded' });
    expect(intentRequestsOf(user)).toHaveLength(2);
    expect(intentsOf(user)).toHaveLength(1);
    expect(await balanceOf(user)).toBe(550);
  }, 60_000);

  it('credits from the webhook when the job’s answer is lost, once whatever the retry does', async () => {
    const user = await cardholder(50);
    await armed(user, 100);
    stripe.loseNextPaymentIntentResponses(1);
    expect(await sweep()).toMatchObject({ triggered: 1 });
    // Charged at Stripe, unknown to us until the webhook says so (the job waits for its retry).
    const intent = await waitFor(async () => intentsOf(user)[0], { what: 'the card to be charged' });
    expect(await deliver('payment_intent.succeeded', intent)).toBe(200);
    expect(await balanceOf(user)).toBe(550);
    const [attempt] = await attemptsOf(user);
    expect(attempt).toMatchObject({ status: 'succeeded', paymentIntentId: intent.id });
    // The retried job finds the attempt paid (or, had it run first, got Stripe's first answer).
    await waitFor(
      async () => {
        const rows = await em().execute<{ state: string }[]>(
          `select state from pgboss.job where name = 'auto-top-up' and data->>'attemptId' = ?`,
          [attempt?.id],
        );
        return rows[0]?.state === 'completed';
      },
      { timeoutMs: 60_000, what: 'the retried job to complete' },
    );
    expect(intentsOf(user)).toHaveLength(1);
    expect(await balanceOf(user)).toBe(550);
    expect((await purchasesOf(user)).filter((p) => p.amountCents === 2000)).toHaveLength(1);
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  }, 60_000);

  it('records a declined card, mails the user, and tries again only after the balance was back above', async () => {
    const user = await cardholder(120, 'pm_card_chargeDeclined');
    await armed(user, 100);
    await spend(user, 30);
    await Promise.all([sweep(), sweep()]);
    const failed = await settled(user);
    expect(failed).toMatchObject({ status: 'failed', error: 'Your card was declined.' });
    expect(failed.paymentIntentId).toMatch(/^pi_/);
    await expect(callerFor(db, user).billing.autoTopUp.get()).resolves.toMatchObject({
      setting: { armed: false },
      attempts: [{ status: 'failed', error: 'Your card was declined.', credits: 500, amountCents: 2000 }],
    });
    // Stripe's own payment_intent.payment_failed comes too: recorded once, mailed once.
    const declined = stripe.paymentIntents.get(failed.paymentIntentId as string);
    expect(await deliver('payment_intent.payment_failed', declined as Record<string, unknown>)).toBe(200);
    const mail = await em().find(MailOutbox, { to: user.email });
    expect(mail.map((m) => m.subject)).toEqual(['Your automatic credit top-up did not go through']);
    expect(mail[0]?.body).toContain('Your card was declined.');
    // More spending, more sweeps: no retry storm.
    for (let i = 0; i < 3; i++) {
      await spend(user, 5);
      await sweep();
    }
    expect(await attemptsOf(user)).toHaveLength(1);
    expect(intentsOf(user)).toHaveLength(1);
    // A new card and a purchase lift the balance above 100; the next crossing buys.
    stripe.saveCard(customerOf(user.id), 'pm_card_visa');
    const pkg = await createPackage(db, { credits: 100, priceCents: 500 });
    expect(await deliver('checkout.session.completed', stripeCheckoutSession(user.id, pkg.id))).toBe(200);
    await sweep();
    await spend(user, 100);
    await sweep();
    const paid = await settled(user);
    expect(paid).toMatchObject({ status: 'succeeded' });
    expect(await attemptsOf(user)).toHaveLength(2);
    // A stray failure event for the paid intent changes nothing.
    const intent = stripe.paymentIntents.get(paid.paymentIntentId as string);
    expect(
      await deliver('payment_intent.payment_failed', {
        ...intent,
        status: 'requires_payment_method',
      } as Record<string, unknown>),
    ).toBe(200);
    expect((await attemptsOf(user)).map((attempt) => attempt.status)).toEqual(['failed', 'succeeded']);
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });

  it('fails a card that needs the cardholder (3-D Secure) off-session', async () => {
    const user = await cardholder(20, 'pm_card_authenticationRequired');
    await armed(user, 100);
    await sweep();
    expect(await settled(user)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/requires authentication/),
    });
    expect(await balanceOf(user)).toBe(20);
  });

  it('over HTTP: a session reads and saves the setting; an API key cannot turn on charges', async () => {
    const user = await cardholder(500);
    const pkg = await createPackage(db, { credits: 500, priceCents: 2000 });
    const { client } = httpClient(server);
    await client.auth.signIn.mutate({ email: user.email, password: user.password });
    const saved = await client.billing.autoTopUp.set.mutate({
      enabled: true,
      threshold: 200,
      packageId: pkg.id,
    });
    expect(saved.setting).toMatchObject({
      enabled: true,
      threshold: 200,
      paymentMethodLabel: 'Visa •••• 4242',
    });
    await expect(client.billing.autoTopUp.get.query()).resolves.toMatchObject({
      setting: { threshold: 200 },
    });
    const { secret } = await client.apiKeys.create.mutate({ name: 'writer', scopes: ['write'] });
    const { client: keyed } = httpClient(server, { apiKey: secret });
    const refused = await keyed.billing.autoTopUp.set
      .mutate({ enabled: true, threshold: 1, packageId: pkg.id })
      .catch((error: { data?: { code?: string } }) => error);
    expect((refused as { data?: { code?: string } }).data?.code).toBe('FORBIDDEN');
    await expect(keyed.billing.autoTopUp.get.query()).resolves.toMatchObject({ setting: { threshold: 200 } });
  });
});

// No workers here: a generation stays queued, its price held, so the available balance stays down.
describe('against the available balance (holds)', () => {
  const db = setupTestDatabase({ autoTopUpSweepMs: HOUR });
  const { sweep, attemptsOf, em } = helpers(db);
  const logo = { appName: 'Refill', appFocus: 'held credits', color1: '#112233', color2: '#445566' };

  it('a hold that takes the available balance below N is a crossing (once); its release re-arms', async () => {
    const user = await createUser(db, { credits: 0 });
    const caller = callerFor(db, user);
    const starter = await createPackage(db, { name: 'Starter', credits: 110, priceCents: 300 });
    const { url } = await caller.billing.checkout({ kind: 'package', packageId: starter.id });
    await caller.billing.devCheckout.complete({
      token: new URL(url, 'http://x').searchParams.get('token') as string,
    });
    const pkg = await createPackage(db, { name: 'Refill', credits: 500, priceCents: 2000 });
    await caller.billing.autoTopUp.set({ enabled: true, threshold: 100, packageId: pkg.id });
    expect(await sweep()).toMatchObject({ triggered: 0 }); // 110 available
    // Two generations hold 8 + 8: 94 available, 110 in total, no ledger row written.
    const held = await Promise.all([
      caller.generations.create({ kind: 'logo', input: logo, outputCount: 8 }),
      caller.generations.create({ kind: 'logo', input: logo, outputCount: 8 }),
    ]);
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 110, held: 16, available: 94 });
    expect(await sweep()).toMatchObject({ triggered: 1 });
    expect(await sweep()).toMatchObject({ triggered: 0 }); // once per crossing
    expect(await attemptsOf(user)).toMatchObject([{ status: 'pending', threshold: 100, balance: 94 }]);
    // The top-up is not paid here (no worker): close it, release the holds, and the setting re-arms.
    await em().execute(
      "update auto_top_up_attempts set status = 'failed', error = 'test', completed_at = now() where user_id = ?",
      [user.id],
    );
    for (const generation of held) await caller.generations.cancel({ id: generation.id });
    expect(await sweep()).toMatchObject({ triggered: 0 });
    await expect(caller.billing.autoTopUp.get()).resolves.toMatchObject({ setting: { armed: true } });
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });
});
