import { beforeAll, describe, expect, it } from 'vitest';
import { verifyInvariants } from '../../server/db/verify.ts';
import { CreditTransaction } from '../../server/modules/credits/credit-transaction.entity.ts';
import { Generation } from '../../server/modules/generations/generation.entity.ts';
import { finish } from '../../server/modules/generations/generation-runner.ts';
import * as generations from '../../server/modules/generations/generations.service.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { codeOf, failureOf } from '../support/errors.ts';
import { createUser } from '../support/factories.ts';
import { waitFor } from '../support/wait.ts';

const db = setupTestDatabase();
beforeAll(() => db.runtime.startWorkers({ concurrency: 2 }));

const logo = { appName: 'Forgeline', appFocus: 'AI developer tools', color1: '#6D28D9', color2: '#f59e0b' };

async function settled(userId: string, id: string) {
  const caller = callerFor(db, {
    id: userId,
    email: '',
    name: '',
    role: 'user',
    status: 'active',
    password: '',
  });
  return waitFor(
    async () => {
      const generation = await caller.generations.get({ id });
      return ['succeeded', 'failed', 'canceled'].includes(generation.status) ? generation : null;
    },
    { what: `generation ${id} to finish` },
  );
}

const refundsOf = (generationId: string) =>
  db.orm.em.fork().count(CreditTransaction, { generation: generationId, type: 'refund' });
const usageRowsOf = (generationId: string) =>
  db.orm.em.fork().count(CreditTransaction, { generation: generationId, type: 'usage' });
const holdOf = async (generationId: string) =>
  (
    await db.orm.em
      .fork()
      .getConnection()
      .execute<{ status: string; amount: number }[]>(
        'select status, amount from credit_holds where generation_id = ?',
        [generationId],
      )
  )[0] ?? null;

async function expectLedgerConsistent(userId: string) {
  expect(await verifyInvariants(db.orm.em.fork(), { userIds: [userId] })).toEqual([]);
}

describe('a logo generation with the local provider', () => {
  it('holds, runs on the worker, captures, and stores distinct SVG logos in the user’s colours', async () => {
    const user = await createUser(db, { credits: 20 });
    const caller = callerFor(db, user);
    const created = await caller.generations.create({ kind: 'logo', input: logo, outputCount: 3 });
    expect(created).toMatchObject({ status: 'queued', creditsCharged: 3, outputCount: 3, unitCost: 1 });
    expect(created.priceVersionId).toEqual(expect.any(String));

    const done = await settled(user.id, created.id);
    expect(done.status).toBe('succeeded');
    // Captured: the held credits are spent, one usage row.
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 17, held: 0, available: 17 });
    expect(await holdOf(created.id)).toEqual({ status: 'captured', amount: 3 });
    expect(await usageRowsOf(created.id)).toBe(1);
    expect(done.images).toHaveLength(3);
    expect(done.startedAt).toBeInstanceOf(Date);
    expect(done.completedAt).toBeInstanceOf(Date);
    expect(done.durationMs).toBeGreaterThanOrEqual(0);

    const svgs = await Promise.all(
      done.images.map(async (image) => {
        const file = await caller.storage.get({ id: image.objectId });
        expect(file.contentType).toBe('image/svg+xml');
        const stream = await db.runtime.storage.read(`${user.id}/${image.objectId}`);
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks).toString('utf8');
      }),
    );
    expect(new Set(svgs).size).toBe(3);
    for (const svg of svgs) {
      expect(svg).toContain('<svg');
      expect(svg.toLowerCase()).toContain('#6d28d9');
    }
    await expectLedgerConsistent(user.id);
  });

  it('generates code by agent type with tokens used', async () => {
    const user = await createUser(db, { credits: 20 });
    const caller = callerFor(db, user);
    const created = await caller.generations.create({
      kind: 'code',
      agentType: 'backend',
      input: { prompt: 'an invoice reminder service' },
    });
    expect(created.creditsCharged).toBe(5);
    const done = await settled(user.id, created.id);
    expect(done.status).toBe('succeeded');
    expect(done.response).toMatch(/invoice/i);
    expect(done.tokensUsed).toBeGreaterThan(0);
  });
});

describe('generations.create', () => {
  it('answers PAYMENT_REQUIRED when short, and records nothing', async () => {
    const user = await createUser(db, { credits: 2 });
    const failure = await failureOf(
      callerFor(db, user).generations.create({ kind: 'logo', input: logo, outputCount: 3 }),
    );
    expect(failure.code).toBe('PAYMENT_REQUIRED');
    expect(await db.orm.em.fork().count(Generation, { user: user.id })).toBe(0);
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({ balance: 2, held: 0 });
  });

  it('is idempotent: the same key returns the first generation and holds once, even concurrently', async () => {
    const user = await createUser(db, { credits: 50 });
    const caller = callerFor(db, user);
    const request = { kind: 'logo' as const, input: logo, outputCount: 2, idempotencyKey: 'click-abc-123' };
    const results = await Promise.all(Array.from({ length: 6 }, () => caller.generations.create(request)));
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    const again = await caller.generations.create(request);
    expect(again.id).toBe(results[0]?.id);
    // Held once (the worker may have captured it by now: the available balance is 48 either way).
    await expect(caller.credits.balance()).resolves.toMatchObject({ available: 48 });
    expect(await db.orm.em.fork().count(Generation, { user: user.id })).toBe(1);
    await expectLedgerConsistent(user.id);
  });

  it.each([
    [{ kind: 'logo', input: { ...logo, color1: 'purple' } }, 'input.color1'],
    [{ kind: 'logo', input: logo, outputCount: 9 }, 'outputCount'],
    [{ kind: 'logo', input: logo, outputCount: 0 }, 'outputCount'],
    [{ kind: 'video', input: { prompt: 'x' } }, 'kind'],
    [{ kind: 'text', input: { prompt: '' } }, 'input.prompt'],
    [{ kind: 'code', input: { prompt: 'an api' }, agentType: 'wizard' }, 'agentType'],
  ])('rejects %j with BAD_REQUEST on %s', async (input, field) => {
    const user = await createUser(db);
    // biome-ignore lint/suspicious/noExplicitAny: deliberately invalid input
    const failure = await failureOf(callerFor(db, user).generations.create(input as any));
    expect(failure.code).toBe('BAD_REQUEST');
    expect(failure.data.fieldErrors).toHaveProperty(field);
  });
});

describe('reading and owning generations', () => {
  it("hides another user's generation: NOT_FOUND on get, cancel and remove", async () => {
    const owner = await createUser(db, { credits: 10 });
    const other = await createUser(db, { credits: 10 });
    const created = await callerFor(db, owner).generations.create({
      kind: 'text',
      input: { prompt: 'a haiku about tea' },
    });
    const caller = callerFor(db, other);
    for (const call of [
      () => caller.generations.get({ id: created.id }),
      () => caller.generations.cancel({ id: created.id }),
      () => caller.generations.remove({ id: created.id }),
    ]) {
      expect(await codeOf(call())).toBe('NOT_FOUND');
    }
    await expect(callerFor(db, owner).generations.get({ id: created.id })).resolves.toMatchObject({
      id: created.id,
    });
  });

  it('lists newest first with a cursor and filters by status, kind and date', async () => {
    const user = await createUser(db, { credits: 100 });
    const caller = callerFor(db, user);
    const made = [];
    for (const prompt of ['one thing', 'two things', 'three things']) {
      made.push(await caller.generations.create({ kind: 'text', input: { prompt } }));
    }
    made.push(await caller.generations.create({ kind: 'logo', input: logo }));
    const first = await caller.generations.list({ limit: 3 });
    expect(first.items.map((g) => g.id)).toEqual([made[3]?.id, made[2]?.id, made[1]?.id]);
    const second = await caller.generations.list({ limit: 3, cursor: first.nextCursor });
    expect(second.items.map((g) => g.id)).toEqual([made[0]?.id]);
    expect(second.nextCursor).toBeNull();
    expect((await caller.generations.list({ kind: ['logo'] })).items).toHaveLength(1);
    expect((await caller.generations.list({ from: new Date(Date.now() + 60_000) })).items).toHaveLength(0);
    await settled(user.id, made[3]?.id as string);
    expect((await caller.generations.list({ status: ['succeeded'], kind: ['logo'] })).items).toHaveLength(1);
  });

  it('searches the prompt, in any case, literally, with the other filters and across pages', async () => {
    const user = await createUser(db, { credits: 100 });
    const other = await createUser(db, { credits: 10 });
    const caller = callerFor(db, user);
    const made = [];
    for (const prompt of ['Bakery slogan', 'a BAKERY menu', 'bike shop', '100% organic', '100 percent']) {
      made.push(await caller.generations.create({ kind: 'text', input: { prompt } }));
    }
    const logoMade = await caller.generations.create({
      kind: 'logo',
      input: { ...logo, appName: 'Bakehouse' },
    });
    await callerFor(db, other).generations.create({ kind: 'text', input: { prompt: 'bakery of mine' } });
    const ids = async (input: Parameters<typeof caller.generations.list>[0]) =>
      (await caller.generations.list(input)).items.map((g) => g.id);

    expect(await ids({ search: 'bakery' })).toEqual([made[1]?.id, made[0]?.id]);
    // A logo's app name is in its prompt; the kind filter still applies.
    expect(await ids({ search: 'bakehouse' })).toEqual([logoMade.id]);
    expect(await ids({ search: 'bakehouse', kind: ['text'] })).toEqual([]);
    // % and _ are characters, not wildcards.
    expect(await ids({ search: '100%' })).toEqual([made[3]?.id]);
    expect(await ids({ search: 'b_ke' })).toEqual([]);
    // Paging keeps the search.
    const first = await caller.generations.list({ search: 'bake', limit: 2 });
    expect(first.items.map((g) => g.id)).toEqual([logoMade.id, made[1]?.id]);
    const second = await caller.generations.list({ search: 'bake', limit: 2, cursor: first.nextCursor });
    expect(second.items.map((g) => g.id)).toEqual([made[0]?.id]);
    expect(second.nextCursor).toBeNull();

    const tooLong = await failureOf(caller.generations.list({ search: 'x'.repeat(201) }));
    expect(tooLong.code).toBe('BAD_REQUEST');
    expect(tooLong.data?.fieldErrors).toEqual({ search: ['Use at most 200 characters'] });
  });

  it('rejects a malformed cursor with BAD_REQUEST', async () => {
    const user = await createUser(db);
    const failure = await failureOf(callerFor(db, user).generations.list({ cursor: 'garbage' }));
    expect(failure.code).toBe('BAD_REQUEST');
  });

  it('removes (soft) a finished generation from the list', async () => {
    const user = await createUser(db, { credits: 10 });
    const caller = callerFor(db, user);
    const created = await caller.generations.create({
      kind: 'text',
      input: { prompt: 'a slogan for a bakery' },
    });
    await settled(user.id, created.id);
    await caller.generations.remove({ id: created.id });
    expect((await caller.generations.list({})).items.map((g) => g.id)).not.toContain(created.id);
    expect(await codeOf(caller.generations.get({ id: created.id }))).toBe('NOT_FOUND');
    const row = await db.orm.em.fork().findOneOrFail(Generation, { id: created.id });
    expect(row.deletedAt).toBeInstanceOf(Date);
  });
});

describe('releases', () => {
  async function queuedGeneration(credits = 10) {
    const user = await createUser(db, { credits });
    // Created straight through the service, without a worker-visible job race: we drive it by hand.
    const generation = await db.orm.em.fork().transactional((em) =>
      generations.createGeneration(
        em,
        { jobs: db.runtime.jobs, providerName: 'none-registered-for-this-test' },
        user.id,
        {
          kind: 'logo',
          input: logo,
          outputCount: 2,
        },
      ),
    );
    return { user, generation };
  }

  it('releases a failed generation’s hold exactly once (no refund row), whatever duplicate failures race', async () => {
    const { user, generation } = await queuedGeneration();
    await settled(user.id, generation.id); // the worker fails it: no such provider
    const failures = await Promise.all(
      Array.from({ length: 10 }, () =>
        finish({ orm: db.orm, storage: db.runtime.storage, logger: db.logger }, generation.id, {
          state: 'failed',
          error: 'duplicate provider callback',
        }),
      ),
    );
    expect(failures).toHaveLength(10);
    expect(await refundsOf(generation.id)).toBe(0);
    expect(await usageRowsOf(generation.id)).toBe(0);
    expect(await holdOf(generation.id)).toEqual({ status: 'released', amount: 2 });
    await expect(callerFor(db, user).credits.balance()).resolves.toMatchObject({
      balance: 10,
      held: 0,
      available: 10,
    });
    const done = await callerFor(db, user).generations.get({ id: generation.id });
    expect(done.status).toBe('failed');
    await expectLedgerConsistent(user.id);
  });

  it('never releases a succeeded generation’s capture, even when a late failure arrives', async () => {
    const user = await createUser(db, { credits: 10 });
    const caller = callerFor(db, user);
    const created = await caller.generations.create({ kind: 'logo', input: logo, outputCount: 2 });
    await settled(user.id, created.id);
    await finish({ orm: db.orm, storage: db.runtime.storage, logger: db.logger }, created.id, {
      state: 'failed',
      error: 'late failure callback',
    });
    expect(await refundsOf(created.id)).toBe(0);
    expect(await holdOf(created.id)).toEqual({ status: 'captured', amount: 2 });
    await expect(caller.generations.get({ id: created.id })).resolves.toMatchObject({ status: 'succeeded' });
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 8, held: 0 });
  });

  it('cancel releases once; concurrent cancels and a racing failure change nothing more', async () => {
    const { user, generation } = await queuedGeneration();
    const caller = callerFor(db, user);
    const attempts = await Promise.allSettled([
      ...Array.from({ length: 5 }, () => caller.generations.cancel({ id: generation.id })),
      finish({ orm: db.orm, storage: db.runtime.storage, logger: db.logger }, generation.id, {
        state: 'failed',
        error: 'racing failure',
      }),
    ]);
    expect(attempts.filter((a) => a.status === 'fulfilled').length).toBeGreaterThan(0);
    const after = await settled(user.id, generation.id);
    expect(['canceled', 'failed']).toContain(after.status);
    expect(await refundsOf(generation.id)).toBe(0);
    expect(await holdOf(generation.id)).toEqual({ status: 'released', amount: 2 });
    await expect(caller.credits.balance()).resolves.toMatchObject({ balance: 10, held: 0, available: 10 });
    await expectLedgerConsistent(user.id);
  });

  it('refuses to cancel a succeeded generation with CONFLICT', async () => {
    const user = await createUser(db, { credits: 10 });
    const caller = callerFor(db, user);
    const created = await caller.generations.create({
      kind: 'text',
      input: { prompt: 'a tagline for shoes' },
    });
    await settled(user.id, created.id);
    expect(await codeOf(caller.generations.cancel({ id: created.id }))).toBe('CONFLICT');
  });
});

describe('generations.onUpdate', () => {
  it('pushes the caller’s status changes live, and nobody else’s', async () => {
    const user = await createUser(db, { credits: 10 });
    const other = await createUser(db, { credits: 10 });
    const seen: string[] = [];
    const stream = await callerFor(db, user).generations.onUpdate();
    const reading = (async () => {
      for await (const update of stream) {
        seen.push(`${update.id}:${update.status}`);
        if (update.status === 'succeeded') break;
      }
    })();
    await callerFor(db, other).generations.create({ kind: 'text', input: { prompt: 'not yours' } });
    const mine = await callerFor(db, user).generations.create({
      kind: 'text',
      input: { prompt: 'a poem about rain' },
    });
    await reading;
    expect(seen).toContain(`${mine.id}:succeeded`);
    expect(seen.every((entry) => entry.startsWith(mine.id))).toBe(true);
  });
});
