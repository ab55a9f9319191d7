// Refunds and disputes through signed Stripe events (charge.refunded, charge.dispute.*): the
// payment's status follows; the unspent credits of the purchase are clawed back (`clawback`), a won
// dispute reinstates exactly that (`reinstatement`), each once per refund step or dispute whatever
// replays, reordering or concurrency; what was spent is left uncollected on the payment (and shown
// to admins), the balance never below zero. A refunded subscription invoice claws back its grant.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyInvariants } from '../../server/db/verify.ts';
import { runBillingCycle } from '../../server/modules/billing/billing-cycle.ts';
import { Payment } from '../../server/modules/billing/payment.entity.ts';
import { CreditGrant } from '../../server/modules/credits/credit-grant.entity.ts';
import { CreditTransaction } from '../../server/modules/credits/credit-transaction.entity.ts';
import * as credits from '../../server/modules/credits/credits.service.ts';
import {
  nowSeconds,
  postStripe,
  randomId,
  stripeCharge,
  stripeCheckoutSession,
  stripeDispute,
  stripeInvoice,
  stripeSubscription,
} from '../support/billing-events.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { createPackage, createPlan, createUser, type TestUser } from '../support/factories.ts';
import { signedStripeEvent } from '../support/fake-stripe.ts';
import { setupTestServer } from '../support/http.ts';

const SECRET = `whsec_${randomBytes(16).toString('hex')}`;
const db = setupTestDatabase({ env: { STRIPE_WEBHOOK_SECRET: SECRET } });
const server = setupTestServer(db);
const em = () => db.orm.em.fork();
const sign = (type: string, object: Record<string, unknown>, created = nowSeconds()) =>
  signedStripeEvent(SECRET, type, object, { created });
const deliver = (type: string, object: Record<string, unknown>, created?: number) =>
  postStripe(server, sign(type, object, created));
const balanceOf = async (user: TestUser) => (await callerFor(db, user).credits.balance()).balance;
const spend = (user: TestUser, amount: number) =>
  em().transactional((tx) => credits.spend(tx, user.id, amount, 'text_generation'));
const ledger = (user: TestUser, type: 'clawback' | 'reinstatement') =>
  em()
    .find(CreditTransaction, { user: user.id, type })
    .then((rows) => rows.map((row) => row.amount));

/** A user who bought `credits` for $10 (payment intent returned). */
async function buyer(credits = 500, start = 0) {
  const user = await createUser(db, { credits: start });
  const pkg = await createPackage(db, { credits });
  const intent = randomId('pi');
  expect(
    await deliver(
      'checkout.session.completed',
      stripeCheckoutSession(user.id, pkg.id, { paymentIntent: intent, amount: 1000 }),
    ),
  ).toBe(200);
  return { user, intent };
}

const paymentOf = (intent: string) => em().findOneOrFail(Payment, { externalPaymentId: intent });

describe('refunds', () => {
  it('claws back the unspent credits of a refunded purchase once, leaving what was spent uncollected', async () => {
    const { user, intent } = await buyer(500);
    await spend(user, 200);
    const refunded = sign('charge.refunded', stripeCharge(intent, { refunded: 1000 }));
    const statuses = await Promise.all([1, 2, 3].map(() => postStripe(server, refunded)));
    expect(statuses).toEqual([200, 200, 200]);
    // A late, older partial-refund event changes nothing.
    expect(await deliver('charge.refunded', stripeCharge(intent, { refunded: 300 }), nowSeconds() - 60)).toBe(
      200,
    );
    expect(await balanceOf(user)).toBe(0);
    expect(await ledger(user, 'clawback')).toEqual([-300]);
    expect(await paymentOf(intent)).toMatchObject({
      status: 'refunded',
      refundedCents: 1000,
      creditsClawedBack: 300,
      creditsUncollected: 200,
    });
    const admin = await createUser(db, { role: 'admin' });
    const listed = await callerFor(db, admin).admin.payments.list({ userId: user.id, uncollected: true });
    expect(listed.items).toMatchObject([
      { status: 'refunded', creditsClawedBack: 300, creditsUncollected: 200 },
    ]);
    const mine = await callerFor(db, user).billing.payments({});
    expect(mine.items[0]).toMatchObject({ status: 'refunded', refundedCents: 1000 });
    expect(mine.items[0]).not.toHaveProperty('creditsUncollected');
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });

  it.each([
    ['in order', [400, 1000]],
    ['reversed', [1000, 400]],
  ])('takes back partial refunds in proportion, once each (%s)', async (_name, steps) => {
    const { user, intent } = await buyer(500);
    for (const refunded of steps)
      expect(await deliver('charge.refunded', stripeCharge(intent, { refunded }))).toBe(200);
    const claws = await ledger(user, 'clawback');
    expect(claws.reduce((a, b) => a + b, 0)).toBe(-500);
    expect(claws).toEqual(steps[0] === 400 ? [-200, -300] : [-500]);
    expect(await balanceOf(user)).toBe(0);
    expect(await paymentOf(intent)).toMatchObject({
      status: 'refunded',
      creditsClawedBack: 500,
      creditsUncollected: 0,
    });
  });

  it('marks a partial refund and never takes other credits or goes below zero', async () => {
    const { user, intent } = await buyer(500, 100);
    await spend(user, 550);
    expect(await balanceOf(user)).toBe(50);
    expect(await deliver('charge.refunded', stripeCharge(intent, { refunded: 500 }))).toBe(200);
    expect(await paymentOf(intent)).toMatchObject({ status: 'partially_refunded', refundedCents: 500 });
    // Half of 500 credits: 250 wanted, 50 left to take, 200 already spent.
    expect(await ledger(user, 'clawback')).toEqual([-50]);
    expect(await balanceOf(user)).toBe(0);
    expect(await paymentOf(intent)).toMatchObject({ creditsClawedBack: 50, creditsUncollected: 200 });
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });

  it('claws back a refunded subscription invoice’s grant, and stops a yearly plan’s monthly grants', async () => {
    const user = await createUser(db, { credits: 70 });
    const plan = await createPlan(db, { creditsPerPeriod: 500 });
    const subId = randomId('sub');
    const intent = randomId('pi');
    const t = nowSeconds();
    expect(
      await deliver(
        'customer.subscription.created',
        stripeSubscription(user.id, subId, { planKey: plan.key, interval: 'year', periodStart: t }),
        t - 1,
      ),
    ).toBe(200);
    expect(
      await deliver(
        'invoice.paid',
        stripeInvoice(subId, {
          paymentIntent: intent,
          amount: 19000,
          periodStart: t,
          periodEnd: t + 365 * 86_400,
        }),
      ),
    ).toBe(200);
    expect(await balanceOf(user)).toBe(570);
    await spend(user, 100); // from the grant, first
    expect(await deliver('charge.refunded', stripeCharge(intent, { amount: 19000, refunded: 19000 }))).toBe(
      200,
    );
    // The grant's 400 left are taken; the 70 that never expire stay; 100 were spent.
    expect(await balanceOf(user)).toBe(70);
    expect(await ledger(user, 'clawback')).toEqual([-400]);
    const [grant] = await em().find(CreditGrant, { user: user.id });
    expect(grant).toMatchObject({ remaining: 0 });
    expect(grant?.revokedAt).toBeInstanceOf(Date);
    expect(
      await paymentOf((await em().findOneOrFail(Payment, { paymentIntentId: intent })).externalPaymentId),
    ).toMatchObject({
      status: 'refunded',
      creditsClawedBack: 400,
      creditsUncollected: 100,
    });
    // Next month: the refunded year grants nothing more.
    const nextMonth = new Date((t + 32 * 86_400) * 1000);
    await runBillingCycle({ orm: db.orm, config: db.config, stripe: null, polar: null }, nextMonth);
    expect(await em().count(CreditTransaction, { user: user.id, type: 'subscription_grant' })).toBe(1);
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });

  it('answers 500 for a refund of a payment not known yet, and applies the redelivery', async () => {
    const user = await createUser(db, { credits: 0 });
    const pkg = await createPackage(db, { credits: 100 });
    const intent = randomId('pi');
    const refund = sign('charge.refunded', stripeCharge(intent, { refunded: 1000 }));
    expect(await postStripe(server, refund)).toBe(500);
    expect(
      await deliver(
        'checkout.session.completed',
        stripeCheckoutSession(user.id, pkg.id, { paymentIntent: intent }),
      ),
    ).toBe(200);
    expect(await postStripe(server, refund)).toBe(200);
    expect(await balanceOf(user)).toBe(0);
  });
});

describe('disputes', () => {
  it('claws back on a chargeback and reinstates exactly that when won, once each', async () => {
    const { user, intent } = await buyer(500);
    await spend(user, 120);
    const dispute = stripeDispute(intent, { amount: 1000 });
    // Created, funds withdrawn and an update, concurrently and twice.
    const opening = [
      sign('charge.dispute.created', dispute),
      sign('charge.dispute.funds_withdrawn', dispute),
      sign('charge.dispute.updated', { ...dispute, status: 'under_review' }),
    ];
    expect(await Promise.all([...opening, ...opening].map((e) => postStripe(server, e)))).toEqual(
      Array(6).fill(200),
    );
    expect(await balanceOf(user)).toBe(0);
    expect(await ledger(user, 'clawback')).toEqual([-380]);
    expect(await paymentOf(intent)).toMatchObject({
      status: 'disputed',
      creditsClawedBack: 380,
      creditsUncollected: 120,
    });

    const won = [
      sign('charge.dispute.funds_reinstated', { ...dispute, status: 'won' }),
      sign('charge.dispute.closed', { ...dispute, status: 'won' }),
    ];
    expect(await Promise.all([...won, ...won].map((e) => postStripe(server, e)))).toEqual(Array(4).fill(200));
    expect(await ledger(user, 'reinstatement')).toEqual([380]);
    expect(await balanceOf(user)).toBe(380);
    expect(await paymentOf(intent)).toMatchObject({
      status: 'succeeded',
      creditsClawedBack: 380,
      creditsReinstated: 380,
      creditsUncollected: 0,
    });
    // A late "created" after the win takes nothing again.
    expect(await deliver('charge.dispute.created', dispute, nowSeconds() - 600)).toBe(200);
    expect(await ledger(user, 'clawback')).toEqual([-380]);
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });

  it('takes nothing when the win arrives before the dispute itself', async () => {
    const { user, intent } = await buyer(500);
    const dispute = stripeDispute(intent);
    expect(await deliver('charge.dispute.funds_reinstated', { ...dispute, status: 'won' })).toBe(200);
    expect(await deliver('charge.dispute.created', dispute)).toBe(200);
    expect(await deliver('charge.dispute.funds_withdrawn', dispute)).toBe(200);
    expect(await ledger(user, 'clawback')).toEqual([]);
    expect(await balanceOf(user)).toBe(500);
    expect(await paymentOf(intent)).toMatchObject({ status: 'succeeded' });
  });

  it('keeps the clawback when the dispute is lost', async () => {
    const { user, intent } = await buyer(500);
    const dispute = stripeDispute(intent, { amount: 1000 });
    expect(await deliver('charge.dispute.closed', { ...dispute, status: 'lost' })).toBe(200);
    expect(await deliver('charge.dispute.created', dispute, nowSeconds() - 60)).toBe(200);
    expect(await ledger(user, 'clawback')).toEqual([-500]);
    expect(await paymentOf(intent)).toMatchObject({ status: 'dispute_lost', creditsClawedBack: 500 });
    expect(await balanceOf(user)).toBe(0);
  });

  it('takes nothing for an inquiry, and closes it', async () => {
    const { user, intent } = await buyer(500);
    const inquiry = stripeDispute(intent, { status: 'warning_needs_response' });
    expect(await deliver('charge.dispute.created', inquiry)).toBe(200);
    expect(await paymentOf(intent)).toMatchObject({ status: 'disputed', creditsClawedBack: 0 });
    expect(await deliver('charge.dispute.closed', { ...inquiry, status: 'warning_closed' })).toBe(200);
    expect(await paymentOf(intent)).toMatchObject({ status: 'succeeded' });
    expect(await balanceOf(user)).toBe(500);
  });
});
