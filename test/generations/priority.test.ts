// Paying customers' generations run before free ones under load: a live subscription gives the
// generation job a pg-boss priority, and a real worker with one slot takes it ahead of a queue
// flooded with free jobs.
import { describe, expect, it } from 'vitest';
import { PAID_QUEUE_PRIORITY, queuePriorityOf } from '../../server/modules/billing/queue-priority.ts';
import { Generation } from '../../server/modules/generations/generation.entity.ts';
import { QUEUES } from '../../server/modules/jobs/queue.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { createPlan, createUser, type TestUser } from '../support/factories.ts';
import { httpClient, setupTestServer } from '../support/http.ts';
import { waitFor } from '../support/wait.ts';

const db = setupTestDatabase();
const server = setupTestServer(db);
const em = () => db.orm.em.fork();

/** A user on a paid plan, bought through the dev checkout (the same events as Stripe's). */
async function subscriber(credits = 100) {
  const user = await createUser(db, { credits });
  const plan = await createPlan(db, { creditsPerPeriod: 50 });
  const caller = callerFor(db, user);
  const { url } = await caller.billing.checkout({ kind: 'plan', planKey: plan.key, interval: 'month' });
  await caller.billing.devCheckout.complete({
    token: new URL(url, 'http://x').searchParams.get('token') as string,
  });
  await expect(caller.billing.subscription()).resolves.toMatchObject({ subscription: { status: 'active' } });
  return user;
}

const jobPriorityOf = async (generationId: string) =>
  Number(
    (
      await em().execute<{ priority: number }[]>(
        `select priority from pgboss.job where name = ? and data->>'generationId' = ?`,
        [QUEUES.generationRun, generationId],
      )
    )[0]?.priority,
  );

const text = (user: TestUser, prompt: string) =>
  callerFor(db, user).generations.create({ kind: 'text', input: { prompt } });

describe('the generation queue', () => {
  it('runs a paying customer’s generation before a flood of free ones (one worker slot)', async () => {
    const free = await createUser(db, { credits: 100 });
    const paid = await subscriber();
    const flood = [];
    for (let i = 0; i < 10; i++) flood.push(await text(free, `free job ${i}`));
    const first = await text(paid, 'the paying customer’s job');
    expect(await jobPriorityOf(first.id)).toBe(PAID_QUEUE_PRIORITY);
    expect(await jobPriorityOf(flood[0]?.id as string)).toBe(0);

    await db.runtime.startWorkers({ concurrency: 1 });
    const ids = [first.id, ...flood.map((generation) => generation.id)];
    const done = await waitFor(
      async () => {
        const rows = await em().find(Generation, { id: { $in: ids } }, { orderBy: { startedAt: 'asc' } });
        return rows.every((row) => row.status === 'succeeded') ? rows : null;
      },
      { timeoutMs: 60_000, what: 'every generation to run' },
    );
    // Enqueued last, run first; the free ones in the order they came.
    expect(done.map((row) => row.id)).toEqual(ids);
  }, 90_000);

  it('gives priority only while the subscription is live', async () => {
    const user = await subscriber();
    expect(await queuePriorityOf(em(), user.id)).toBe(PAID_QUEUE_PRIORITY);
    await em().execute("update subscriptions set status = 'past_due' where user_id = ?", [user.id]);
    expect(await queuePriorityOf(em(), user.id)).toBe(PAID_QUEUE_PRIORITY);
    await em().execute("update subscriptions set status = 'canceled' where user_id = ?", [user.id]);
    expect(await queuePriorityOf(em(), user.id)).toBe(0);
    expect(await queuePriorityOf(em(), (await createUser(db)).id)).toBe(0);
  });

  it('reads the plan at create time: a subscription ended just before counts as free', async () => {
    const user = await subscriber();
    const before = await text(user, 'while subscribed');
    expect(await jobPriorityOf(before.id)).toBe(PAID_QUEUE_PRIORITY);
    await em().execute("update subscriptions set status = 'canceled' where user_id = ?", [user.id]);
    const after = await text(user, 'after it ended');
    expect(await jobPriorityOf(after.id)).toBe(0);
    // A project's code generation goes through the same create.
    const project = await callerFor(db, user).projects.create({ name: 'Queue', template: 'api' });
    const generated = await callerFor(db, user).projects.generate({
      projectId: project.id,
      agentType: 'backend',
    });
    expect(await jobPriorityOf(generated.generation.id)).toBe(0);
  });

  it('over HTTP, a paying customer’s generation job carries the priority', async () => {
    const paid = await subscriber();
    const { client, jar } = httpClient(server);
    await client.auth.signIn.mutate({ email: paid.email, password: paid.password });
    expect(jar.get('forgeline_session')).toBeTruthy();
    const created = await client.generations.create.mutate({ kind: 'text', input: { prompt: 'over http' } });
    expect(await jobPriorityOf(created.id)).toBe(PAID_QUEUE_PRIORITY);
  });
});
