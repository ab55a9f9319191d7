// Holds, price snapshots and key budgets over real HTTP with the real tRPC client: the balance's
// held and available credits, a key's daily budget set through apiKeys.update (a session, with the
// CSRF header) and enforced on bearer calls with 429 TOO_MANY_REQUESTS and a clear message, its
// spend of today in apiKeys.list, and a generation's recorded price.
import { describe, expect, it } from 'vitest';
import { setupTestDatabase } from '../support/database.ts';
import { uniqueEmail } from '../support/factories.ts';
import { clientError, httpClient, setupTestServer } from '../support/http.ts';

const db = setupTestDatabase();
const server = setupTestServer(db);
const logo = { appName: 'Wire', appFocus: 'holds over HTTP', color1: '#112233', color2: '#445566' };

describe('holds and key budgets over HTTP', () => {
  it('holds on create, shows held and available, and refuses a key past its daily budget with 429', async () => {
    const { client: session } = httpClient(server);
    await session.auth.signUp.mutate({
      email: uniqueEmail(),
      password: 'a long enough password',
      name: 'Ada',
    });
    const key = await session.apiKeys.create.mutate({ name: 'ci', scopes: ['generations:write', 'read'] });
    expect(key).toMatchObject({ maxCreditsPerDay: null, spentToday: 0 });
    const updated = await session.apiKeys.update.mutate({ id: key.id, maxCreditsPerDay: 5 });
    expect(updated).toMatchObject({ maxCreditsPerDay: 5 });

    const { client: bearer } = httpClient(server, { apiKey: key.secret, csrf: false });
    const held = await bearer.generations.create.mutate({ kind: 'logo', input: logo, outputCount: 4 });
    expect(held).toMatchObject({ status: 'queued', creditsCharged: 4, unitCost: 1 });
    expect(held.priceVersionId).toEqual(expect.any(String));
    // Parallel requests through the key: only what fits in the remaining 1 credit passes.
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => bearer.generations.create.mutate({ kind: 'logo', input: logo })),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    const refused = await clientError(bearer.generations.create.mutate({ kind: 'logo', input: logo }));
    expect(refused.data).toMatchObject({ code: 'TOO_MANY_REQUESTS', httpStatus: 429 });
    expect(refused.message).toContain('00:00 UTC');

    const balance = await session.credits.balance.query();
    expect(balance).toMatchObject({ balance: 100, held: 5, available: 95 });
    const [listed] = await session.apiKeys.list.query();
    expect(listed).toMatchObject({ id: key.id, maxCreditsPerDay: 5, spentToday: 5 });

    // Canceling gives the credits back, to the balance and to the key's day.
    await session.generations.cancel.mutate({ id: held.id });
    expect(await session.credits.balance.query()).toMatchObject({ balance: 100, held: 1, available: 99 });
    expect((await session.apiKeys.list.query())[0]).toMatchObject({ spentToday: 1 });

    // A bad budget is a field error, not a 500; a key cannot change its own budget.
    const bad = await clientError(session.apiKeys.update.mutate({ id: key.id, maxCreditsPerDay: -1 }));
    expect(bad.data).toMatchObject({ code: 'BAD_REQUEST', httpStatus: 400 });
    expect(bad.data?.fieldErrors).toHaveProperty('maxCreditsPerDay');
    const viaKey = await clientError(bearer.apiKeys.update.mutate({ id: key.id, maxCreditsPerDay: 1000 }));
    expect(viaKey.data?.httpStatus).toBe(403);
  });
});
