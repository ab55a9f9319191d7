// A correctly signed body that is not an event (null, {}, no data, an array, not JSON) is answered
// 400 and stored as rejected, once — never a 500 that the provider retries forever; a real event
// after it is still applied.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WebhookEvent } from '../../server/modules/billing/webhook-event.entity.ts';
import { postPolar, postStripe, stripeCheckoutSession } from '../support/billing-events.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { createPackage, createUser } from '../support/factories.ts';
import { signedPolarEvent } from '../support/fake-polar.ts';
import { signedStripeEvent, signedStripePayload } from '../support/fake-stripe.ts';
import { setupTestServer } from '../support/http.ts';

const STRIPE_SECRET = `whsec_${randomBytes(16).toString('hex')}`;
const POLAR_SECRET = `polar_whs_${randomBytes(12).toString('hex')}`;
const db = setupTestDatabase({
  env: { STRIPE_WEBHOOK_SECRET: STRIPE_SECRET, POLAR_WEBHOOK_SECRET: POLAR_SECRET },
});
const server = setupTestServer(db);
const em = () => db.orm.em.fork();
const rejected = (provider: 'stripe' | 'polar') =>
  em().count(WebhookEvent, { provider, rejectedAt: { $ne: null } });

describe('signed bodies that are not events', () => {
  it.each([
    ['null', 'null'],
    ['an empty object', '{}'],
    [
      'an event without data',
      JSON.stringify({ id: 'evt_nodata', object: 'event', type: 'checkout.session.completed', created: 1 }),
    ],
    [
      'an event whose data has no object',
      JSON.stringify({ id: 'evt_noobj', object: 'event', type: 'invoice.paid', created: 1, data: {} }),
    ],
    ['an array', '[]'],
    ['a number', '42'],
    ['text that is not JSON', 'hello, stripe'],
  ])('Stripe: %s → 400, stored as rejected once', async (_name, body) => {
    const before = await rejected('stripe');
    const signed = signedStripePayload(STRIPE_SECRET, body);
    expect(await postStripe(server, signed)).toBe(400);
    expect(await postStripe(server, signedStripePayload(STRIPE_SECRET, body))).toBe(400);
    expect(await rejected('stripe')).toBe(before + 1);
    const [row] = await em().find(
      WebhookEvent,
      { provider: 'stripe', rejectedAt: { $ne: null } },
      { orderBy: { receivedAt: 'desc' }, limit: 1 },
    );
    expect(row).toMatchObject({ type: 'rejected', processedAt: null });
    expect(row?.error).toMatch(/not (JSON|a Stripe event)/);
  });

  it.each([
    ['malformed JSON', '{"type": "order.paid", "data": '],
    ['null', 'null'],
    ['an empty object', '{}'],
    ['an event without data', JSON.stringify({ type: 'order.paid' })],
    ['an event whose data is not an object', JSON.stringify({ type: 'order.paid', data: 'x' })],
  ])('Polar: %s → 400, stored as rejected once per message', async (_name, raw) => {
    const before = await rejected('polar');
    const signed = signedPolarEvent(POLAR_SECRET, null, { raw });
    expect(await postPolar(server, signed)).toBe(400);
    expect(await postPolar(server, signed)).toBe(400);
    expect(await rejected('polar')).toBe(before + 1);
  });

  it('still applies real events, and still rejects bad signatures without storing them', async () => {
    const user = await createUser(db, { credits: 0 });
    const pkg = await createPackage(db, { credits: 50 });
    const before = await em().count(WebhookEvent, {});
    expect(
      await postStripe(server, signedStripePayload(`whsec_${randomBytes(8).toString('hex')}`, 'null')),
    ).toBe(400);
    expect(await em().count(WebhookEvent, {})).toBe(before);
    expect(
      await postStripe(
        server,
        signedStripeEvent(
          STRIPE_SECRET,
          'checkout.session.completed',
          stripeCheckoutSession(user.id, pkg.id),
        ),
      ),
    ).toBe(200);
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({ balance: 50 });
  });
});
