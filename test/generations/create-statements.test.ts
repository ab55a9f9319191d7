// generations.create's database work, statement by statement (SPEC §14: at most 6 a request with
// the session read): begin, one statement (generation, hold, grants reserved, the API key's daily
// spend when asked through a key, job), commit — no settings read once cached, no savepoint, no
// NOTIFY inside the transaction.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from '../../server/db/sql.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { createUser } from '../support/factories.ts';

const db = setupTestDatabase();
const logo = { appName: 'Acme', appFocus: 'rockets', color1: '#112233', color2: '#445566' };

let listener: ((message: unknown) => void) | null = null;
afterEach(() => {
  if (listener) unsubscribe('forgeline:statement', listener);
  listener = null;
});

/** The statements `run` sends through the ORM's pool, in order. */
async function statementsOf(run: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  listener = (message) =>
    seen.push(
      String((message as { text: string }).text)
        .trim()
        .split(/\s+/)
        .slice(0, 4)
        .join(' '),
    );
  subscribe('forgeline:statement', listener);
  await run();
  unsubscribe('forgeline:statement', listener);
  listener = null;
  return seen;
}

const jobsFor = async (generationId: string) =>
  (
    await sql<{ n: number }>(
      db.orm.em.fork(),
      `select count(*)::int as n from pgboss.job where name = 'generation-run' and data->>'generationId' = $1`,
      [generationId],
    )
  )[0]?.n;

describe('generations.create, statement by statement', () => {
  it('is begin, one statement and commit: no settings read, savepoint or NOTIFY', async () => {
    const user = await createUser(db, { credits: 20 });
    const caller = callerFor(db, user);
    await caller.generations.create({ kind: 'logo', input: logo }); // the settings are now cached
    let created: { id: string } | undefined;
    const statements = await statementsOf(async () => {
      created = await caller.generations.create({
        kind: 'logo',
        input: logo,
        idempotencyKey: 'statements-1',
      });
    });
    expect(statements).toEqual(['begin', 'with gen as (', 'commit']);
    expect(await jobsFor(created?.id as string)).toBe(1);
    // Held, not spent: the total stays, the available part drops by both generations' price.
    expect(await caller.credits.balance()).toMatchObject({ balance: 20, held: 2, available: 18 });
  });

  it('through an API key with a daily budget: still begin, one statement and commit', async () => {
    const user = await createUser(db, { credits: 20 });
    const key = await callerFor(db, user, { csrfHeader: true }).apiKeys.create({
      name: 'ci',
      scopes: ['generations:write'],
      maxCreditsPerDay: 5,
    });
    const viaKey = callerFor(db, user, {
      authMethod: 'bearer',
      apiKeyId: key.id,
      scopes: ['generations:write'],
    });
    await viaKey.generations.create({ kind: 'logo', input: logo });
    let created: { id: string } | undefined;
    const statements = await statementsOf(async () => {
      created = await viaKey.generations.create({
        kind: 'logo',
        input: logo,
        idempotencyKey: 'statements-k',
      });
    });
    expect(statements).toEqual(['begin', 'with gen as (', 'commit']);
    expect(await jobsFor(created?.id as string)).toBe(1);
    const [listed] = await callerFor(db, user, { csrfHeader: true }).apiKeys.list();
    expect(listed).toMatchObject({ maxCreditsPerDay: 5, spentToday: 2 });
  });

  it('answers a repeated key from the same statement: the first generation, charged once, one job', async () => {
    const user = await createUser(db, { credits: 20 });
    const caller = callerFor(db, user);
    const first = await caller.generations.create({
      kind: 'logo',
      input: logo,
      idempotencyKey: 'statements-2',
    });
    let again: { id: string } | undefined;
    const statements = await statementsOf(async () => {
      again = await caller.generations.create({ kind: 'logo', input: logo, idempotencyKey: 'statements-2' });
    });
    expect(statements).toEqual(['begin', 'with gen as (', 'commit']);
    expect(again?.id).toBe(first.id);
    expect(await jobsFor(first.id)).toBe(1);
    expect(await caller.credits.balance()).toMatchObject({ balance: 20, held: 1, available: 19 });
  });

  it('writes neither generation nor job when the credits fall short', async () => {
    const user = await createUser(db, { credits: 0 });
    await expect(callerFor(db, user).generations.create({ kind: 'logo', input: logo })).rejects.toMatchObject(
      {
        code: 'PAYMENT_REQUIRED',
      },
    );
    const [rows] = await sql<{ generations: number; jobs: number }>(
      db.orm.em.fork(),
      `select (select count(*)::int from generations where user_id = $1) as generations,
              (select count(*)::int from pgboss.job j join generations g on g.id::text = j.data->>'generationId'
                where g.user_id = $1) as jobs`,
      [user.id],
    );
    expect(rows).toEqual({ generations: 0, jobs: 0 });
    expect(await callerFor(db, user).credits.balance()).toMatchObject({ balance: 0, held: 0, available: 0 });
  });
});
