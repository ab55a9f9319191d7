// db:verify finds each kind of corruption, planted deliberately in this file's scratch database
// behind the application's back (the app itself cannot produce them).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { verifyInvariants } from '../../server/db/verify.ts';
import { completeRun, startRun } from '../../server/modules/generations/generations.service.ts';
import { VerifyRun } from '../../server/modules/metrics/verify-run.entity.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { createUser } from '../support/factories.ts';

const run = promisify(execFile);
const db = setupTestDatabase({ corrupts: true });
const em = () => db.orm.em.fork();
const logo = { appName: 'Verify', appFocus: 'invariants', color1: '#112233', color2: '#445566' };
const checksFor = async (userId: string) =>
  (await verifyInvariants(em(), { userIds: [userId] })).map((v) => v.check);

describe('db:verify', () => {
  it('is clean on healthy data', async () => {
    const user = await createUser(db, { credits: 40 });
    expect(await checksFor(user.id)).toEqual([]);
  });

  it('finds a balance that disagrees with its ledger', async () => {
    const user = await createUser(db, { credits: 40 });
    await em().execute('update credit_balances set balance = balance + 5 where user_id = ?', [user.id]);
    expect(await checksFor(user.id)).toContain('balance equals the sum of the ledger');
  });

  it('finds a broken balance_after chain and a sequence gap', async () => {
    const user = await createUser(db, { credits: 40 });
    await em().execute(
      'update credit_transactions set balance_after = balance_after + 1 where user_id = ? and seq = 1',
      [user.id],
    );
    await em().execute('update credit_balances set ledger_seq = ledger_seq + 1 where user_id = ?', [user.id]);
    const checks = await checksFor(user.id);
    expect(checks).toContain('balance_after follows the running sum');
    expect(checks).toContain('ledger sequence has no gaps');
  });

  it('finds totals that disagree with the sums by type', async () => {
    const user = await createUser(db, { credits: 40 });
    await em().execute('update credit_balances set total_used = total_used + 3 where user_id = ?', [user.id]);
    expect(await checksFor(user.id)).toContain('totals equal the sums by type');
  });

  it('finds a failed generation that was never refunded', async () => {
    const user = await createUser(db, { credits: 40 });
    await em().execute(
      `insert into generations (id, user_id, kind, status, input, output_count, credits_charged, provider, attempts, created_at, updated_at)
       values (gen_random_uuid(), ?, 'text', 'failed', '{}'::jsonb, 1, 2, 'local', 1, now(), now())`,
      [user.id],
    );
    expect(await checksFor(user.id)).toContain(
      'failed and canceled generations are refunded, succeeded ones never',
    );
  });

  it('finds a succeeded generation whose output is not in our storage (a provider URL)', async () => {
    const user = await createUser(db, { credits: 40 });
    await em().execute(
      `insert into generations (id, user_id, kind, status, input, output_count, credits_charged, provider, attempts, images, created_at, updated_at)
       values (gen_random_uuid(), ?, 'image', 'succeeded', '{}'::jsonb, 1, 0, 'replicate', 1,
               '[{"url": "https://replicate.delivery/x.png", "contentType": "image/png"}]'::jsonb, now(), now())`,
      [user.id],
    );
    expect(await checksFor(user.id)).toContain('a succeeded generation’s outputs are stored objects');
  });

  it('finds an auto top-up marked paid whose credits never landed', async () => {
    const user = await createUser(db, { credits: 40 });
    await em().execute(
      `with checkout as (
         insert into checkouts (id, user_id, provider, kind, item_name, credits, amount_cents, currency, status, expires_at, created_at, updated_at)
         values (gen_random_uuid(), ?, 'stripe', 'credit_package', 'Refill (auto top-up)', 500, 2000, 'usd', 'completed', now(), now(), now())
         returning id)
       insert into auto_top_up_attempts (id, user_id, checkout_id, status, threshold, balance, created_at, updated_at)
       select gen_random_uuid(), ?, id, 'succeeded', 100, 40, now(), now() from checkout`,
      [user.id, user.id],
    );
    expect(await checksFor(user.id)).toContain(
      'an auto top-up is credited once, as its checkout sold, and only when paid',
    );
  });

  it('finds expiring credits beyond the balance, and a user without a balance', async () => {
    const user = await createUser(db, { credits: 10 });
    await em().execute(
      `insert into credit_grants (id, user_id, source_transaction_id, amount, remaining, expires_at, created_at, updated_at)
       select gen_random_uuid(), user_id, id, 50, 50, now() + interval '1 day', now(), now()
         from credit_transactions where user_id = ? order by seq limit 1`,
      [user.id],
    );
    expect(await checksFor(user.id)).toContain('expiring credits never exceed the balance');
    const orphan = await createUser(db);
    await em().execute('delete from credit_transactions where user_id = ?', [orphan.id]);
    await em().execute('delete from credit_balances where user_id = ?', [orphan.id]);
    expect(await checksFor(orphan.id)).toContain('every user has one balance');
  });

  it('finds holds that disagree with the balance, their generation, their key’s spend and their price', async () => {
    const user = await createUser(db, { credits: 40 });
    const caller = callerFor(db, user);
    const key = await caller.apiKeys.create({
      name: 'verify',
      scopes: ['generations:write'],
      maxCreditsPerDay: 50,
    });
    const viaKey = callerFor(db, user, {
      authMethod: 'bearer',
      apiKeyId: key.id,
      scopes: ['generations:write'],
    });
    const generation = await viaKey.generations.create({ kind: 'logo', input: logo, outputCount: 2 });
    expect(await checksFor(user.id)).toEqual([]);
    // `held` moved behind the holds' back.
    await em().execute('update credit_balances set held = held + 1 where user_id = ?', [user.id]);
    expect(await checksFor(user.id)).toContain('held equals the sum of open holds');
    await em().execute('update credit_balances set held = held - 1 where user_id = ?', [user.id]);
    // The generation ended without settling its hold; the key's day counts too much.
    await em().execute("update generations set status = 'failed' where id = ?", [generation.id]);
    await em().execute('update api_key_daily_spend set credits = credits + 3 where api_key_id = ?', [key.id]);
    // A price that is not its version's.
    await em().execute('update generations set unit_cost = 3, credits_charged = 6 where id = ?', [
      generation.id,
    ]);
    const checks = await checksFor(user.id);
    expect(checks).toContain('a hold is open while its generation runs, then settled as it ended');
    expect(checks).toContain('an API key’s daily spend is what its holds of that UTC day hold or spent');
    expect(checks).toContain('a generation’s unit cost is its price version’s');
  });

  it('finds a captured hold without its usage row, and a held generation that was also refunded', async () => {
    const user = await createUser(db, { credits: 40 });
    const generation = await callerFor(db, user).generations.create({ kind: 'logo', input: logo });
    await em().transactional((tx) => startRun(tx, generation.id));
    await em().transactional((tx) =>
      completeRun(tx, generation.id, { images: [], text: null, tokensUsed: null, providerResponse: null }),
    );
    expect(await checksFor(user.id)).toEqual([]);
    await em().execute(
      "update credit_transactions set amount = -2 where generation_id = ? and type = 'usage'",
      [generation.id],
    );
    const checks = await checksFor(user.id);
    expect(checks).toContain('a captured hold is one usage row of exactly what it held');
    expect(checks).toContain('a held generation is charged once if it succeeded, never otherwise');
  });

  it('exits non-zero from the command line when anything is wrong', async () => {
    const failure = await run(process.execPath, ['server/db/cli.ts', 'verify'], {
      env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'silent' },
    }).catch((error: { code: number; stdout: string }) => error);
    expect('code' in failure ? failure.code : 0).toBe(1);
    expect((failure as { stdout: string }).stdout).toContain('violation(s)');
    // The result is kept for /metrics (ledger drift), as the hourly ledger-verify job keeps its own.
    const [recorded] = await em().find(VerifyRun, { source: 'cli' });
    expect(recorded?.violations).toBeGreaterThan(0);
    expect(recorded?.byCheck['balance equals the sum of the ledger']).toBeGreaterThan(0);
  });
});
