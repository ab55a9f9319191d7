// POST /webhooks/stripe through the real Express app, with payloads signed by the Stripe SDK's own
// test-header helper: verified, stored, applied exactly once whatever duplicates, concurrency and
// ordering; credits expire soonest-first and are taken back by the expiry job.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyInvariants } from '../../server/db/verify.ts';
import { Payment } from '../../server/modules/billing/payment.entity.ts';
import { Subscription } from '../../server/modules/billing/subscription.entity.ts';
import { SubscriptionEvent } from '../../server/modules/billing/subscription-event.entity.ts';
import { WebhookEvent } from '../../server/modules/billing/webhook-event.entity.ts';
import { CreditGrant } from '../../server/modules/credits/credit-grant.entity.ts';
import { CreditTransaction } from '../../server/modules/credits/credit-transaction.entity.ts';
import * as credits from '../../server/modules/credits/credits.service.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { createPackage, createPlan, createUser, type TestUser } from '../support/factories.ts';
import { signedStripeEvent } from '../support/fake-stripe.ts';
import { setupTestServer } from '../support/http.ts';

const SECRET = `whsec_${randomBytes(16).toString('hex')}`;
const db = setupTestDatabase({ env: { STRIPE_WEBHOOK_SECRET: SECRET } });
const server = setupTestServer(db);

async function deliver(event: { payload: string; signature: string }) {
  const response = await fetch(`${server.baseUrl}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': event.signature },
    body: event.payload,
  });
  return response.status;
}

const balanceOf = async (user: TestUser) => (await callerFor(db, user).credits.balance()).balance;
const em = () => db.orm.em.fork();
const now = () => Math.floor(Date.now() / 1000);

function checkoutSession(user: TestUser, packageId: string, id = `cs_${randomBytes(6).toString('hex')}`) {
  return {
    id,
    object: 'checkout.session',
    mode: 'payment',
    payment_status: 'paid',
    client_reference_id: user.id,
    customer: `cus_${user.id.replaceAll('-', '')}`,
    payment_intent: `pi_${id}`,
    amount_total: 1000,
    currency: 'usd',
    metadata: { userId: user.id, packageId },
  };
}

function subscriptionObject(
  user: TestUser,
  id: string,
  fields: {
    status?: string;
    cancelAtPeriodEnd?: boolean;
    priceId?: string;
    planKey?: string;
    periodEnd?: number;
  } = {},
) {
  return {
    id,
    object: 'subscription',
    customer: `cus_${user.id.replaceAll('-', '')}`,
    status: fields.status ?? 'active',
    cancel_at_period_end: fields.cancelAtPeriodEnd ?? false,
    canceled_at: null,
    trial_start: null,
    trial_end: null,
    currency: 'usd',
    metadata: { userId: user.id, planKey: fields.planKey ?? '' },
    items: {
      object: 'list',
      data: [
        {
          id: `si_${id}`,
          current_period_start: now(),
          current_period_end: fields.periodEnd ?? now() + 30 * 86_400,
          price: {
            id: fields.priceId ?? 'price_x',
            unit_amount: 1900,
            currency: 'usd',
            recurring: { interval: 'month', interval_count: 1 },
          },
        },
      ],
    },
  };
}

const invoice = (
  subscriptionId: string,
  id = `in_${randomBytes(6).toString('hex')}`,
  periodEnd = now() + 30 * 86_400,
) => ({
  id,
  object: 'invoice',
  amount_paid: 1900,
  currency: 'usd',
  parent: { type: 'subscription_details', subscription_details: { subscription: subscriptionId } },
  lines: { object: 'list', data: [{ period: { start: now(), end: periodEnd } }] },
});

describe('Stripe webhooks', () => {
  it('credits a package purchase once, even when the event arrives 10 times at once', async () => {
    const user = await createUser(db, { credits: 0 });
    const pkg = await createPackage(db, { credits: 250 });
    const event = signedStripeEvent(SECRET, 'checkout.session.completed', checkoutSession(user, pkg.id));
    const statuses = await Promise.all(Array.from({ length: 10 }, () => deliver(event)));
    expect(statuses).toEqual(Array(10).fill(200));
    expect(await balanceOf(user)).toBe(250);
    expect(await em().count(Payment, { user: user.id })).toBe(1);
    expect(await em().count(WebhookEvent, { processedAt: { $ne: null } })).toBeGreaterThanOrEqual(1);
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });

  it('credits once per payment even when different events report the same order', async () => {
    const user = await createUser(db, { credits: 0 });
    const pkg = await createPackage(db, { credits: 100 });
    const session = checkoutSession(user, pkg.id);
    expect(await deliver(signedStripeEvent(SECRET, 'checkout.session.completed', session))).toBe(200);
    expect(
      await deliver(signedStripeEvent(SECRET, 'checkout.session.async_payment_succeeded', session)),
    ).toBe(200);
    expect(await balanceOf(user)).toBe(100);
    expect(await em().count(CreditTransaction, { user: user.id, type: 'purchase' })).toBe(1);
  });

  it('rejects a bad signature, a tampered body and a stale timestamp with 400, storing nothing', async () => {
    const user = await createUser(db, { credits: 0 });
    const pkg = await createPackage(db);
    const before = await em().count(WebhookEvent, {});
    const good = signedStripeEvent(SECRET, 'checkout.session.completed', checkoutSession(user, pkg.id));
    const forged = signedStripeEvent(
      `whsec_${randomBytes(16).toString('hex')}`,
      'checkout.session.completed',
      checkoutSession(user, pkg.id),
    );
    const stale = signedStripeEvent(SECRET, 'checkout.session.completed', checkoutSession(user, pkg.id), {
      timestamp: now() - 3600,
    });
    expect(await deliver(forged)).toBe(400);
    expect(
      await deliver({
        payload: good.payload.replace('"amount_total":1000', '"amount_total":1'),
        signature: good.signature,
      }),
    ).toBe(400);
    expect(await deliver(stale)).toBe(400);
    expect(await deliver({ payload: good.payload, signature: '' })).toBe(400);
    expect(await em().count(WebhookEvent, {})).toBe(before);
    expect(await balanceOf(user)).toBe(0);
  });

  it('never lets an older subscription event overwrite a newer one', async () => {
    const user = await createUser(db);
    const priceId = `price_${randomBytes(4).toString('hex')}`;
    const plan = await createPlan(db, { externalPriceMonthlyId: priceId });
    const subId = `sub_${randomBytes(6).toString('hex')}`;
    const t = now();
    const created = signedStripeEvent(
      SECRET,
      'customer.subscription.created',
      subscriptionObject(user, subId, { priceId }),
      { created: t },
    );
    const canceled = signedStripeEvent(
      SECRET,
      'customer.subscription.updated',
      subscriptionObject(user, subId, { priceId, cancelAtPeriodEnd: true }),
      { created: t + 20 },
    );
    const stale = signedStripeEvent(
      SECRET,
      'customer.subscription.updated',
      subscriptionObject(user, subId, { priceId, status: 'past_due' }),
      { created: t + 10 },
    );
    expect(await deliver(canceled)).toBe(200); // arrives first
    expect(await deliver(created)).toBe(200);
    expect(await deliver(stale)).toBe(200);
    const row = await em().findOneOrFail(
      Subscription,
      { externalSubscriptionId: subId },
      { populate: ['plan'] },
    );
    expect(row).toMatchObject({ status: 'active', cancelAtPeriodEnd: true });
    expect(row.plan?.id).toBe(plan.id);
    expect(await em().count(SubscriptionEvent, { user: user.id })).toBe(1);
    const overview = await callerFor(db, user).billing.subscription();
    expect(overview.subscription).toMatchObject({
      status: 'active',
      cancelAtPeriodEnd: true,
      plan: { key: plan.key },
    });
  });

  it('grants the plan’s credits on invoice.paid, spends them first, and expires the rest once', async () => {
    const user = await createUser(db, { credits: 100 });
    const plan = await createPlan(db, { creditsPerPeriod: 500 });
    const subId = `sub_${randomBytes(6).toString('hex')}`;
    const periodEnd = now() + 3600;
    expect(
      await deliver(
        signedStripeEvent(
          SECRET,
          'customer.subscription.created',
          subscriptionObject(user, subId, { planKey: plan.key, periodEnd }),
        ),
      ),
    ).toBe(200);
    const paid = signedStripeEvent(SECRET, 'invoice.paid', invoice(subId, undefined, periodEnd));
    expect(await Promise.all([deliver(paid), deliver(paid), deliver(paid)])).toEqual([200, 200, 200]);
    expect(await balanceOf(user)).toBe(600);
    const [grant] = await em().find(CreditGrant, { user: user.id });
    expect(grant).toMatchObject({ amount: 500, remaining: 500 });
    expect(grant?.expiresAt.getTime()).toBe(periodEnd * 1000);

    // Spending drains the expiring grant before the credits that never expire.
    await callerFor(db, user).generations.create({ kind: 'text', input: { prompt: 'a poem about winter' } });
    await em()
      .fork()
      .transactional((tx) => credits.spend(tx, user.id, 49, 'text_generation'));
    expect((await em().findOneOrFail(CreditGrant, { user: user.id })).remaining).toBe(450);

    // The expiry job takes back what is left, exactly once.
    const later = new Date((periodEnd + 60) * 1000);
    expect(await credits.expireGrants(em(), { now: later })).toBe(1);
    expect(await credits.expireGrants(em(), { now: later })).toBe(0);
    // The text generation (queued: no worker here) still holds its credit, reserved from the grant
    // before the expiry: 101 in total, 100 available.
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({
      balance: 101,
      held: 1,
      available: 100,
    });
    const expirations = await em().find(CreditTransaction, { user: user.id, type: 'expiration' });
    expect(expirations.map((row) => row.amount)).toEqual([-450]);
    expect(await verifyInvariants(em(), { userIds: [user.id] })).toEqual([]);
  });

  it('answers 500 for an invoice that overtakes its subscription, then applies the redelivery', async () => {
    const user = await createUser(db, { credits: 0 });
    const plan = await createPlan(db, { creditsPerPeriod: 300 });
    const subId = `sub_${randomBytes(6).toString('hex')}`;
    const paid = signedStripeEvent(SECRET, 'invoice.paid', invoice(subId));
    expect(await deliver(paid)).toBe(500);
    const failed = await em().findOneOrFail(WebhookEvent, {
      type: 'invoice.paid',
      processedAt: null,
      error: { $ne: null },
    });
    expect(failed.error).toContain('not known yet');
    expect(
      await deliver(
        signedStripeEvent(
          SECRET,
          'customer.subscription.created',
          subscriptionObject(user, subId, { planKey: plan.key }),
        ),
      ),
    ).toBe(200);
    expect(await deliver(paid)).toBe(200);
    expect(await balanceOf(user)).toBe(300);
  });

  it('marks the subscription past_due when a renewal fails', async () => {
    const user = await createUser(db);
    const plan = await createPlan(db);
    const subId = `sub_${randomBytes(6).toString('hex')}`;
    expect(
      await deliver(
        signedStripeEvent(
          SECRET,
          'customer.subscription.created',
          subscriptionObject(user, subId, { planKey: plan.key }),
          { created: now() - 5 },
        ),
      ),
    ).toBe(200);
    expect(await deliver(signedStripeEvent(SECRET, 'invoice.payment_failed', invoice(subId)))).toBe(200);
    expect((await em().findOneOrFail(Subscription, { externalSubscriptionId: subId })).status).toBe(
      'past_due',
    );
  });
});
