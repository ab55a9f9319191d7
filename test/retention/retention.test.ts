import { describe, expect, it } from 'vitest';
import { CreditTransaction } from '../../server/modules/credits/credit-transaction.entity.ts';
import { Generation } from '../../server/modules/generations/generation.entity.ts';
import { Session } from '../../server/modules/identity/session.entity.ts';
import { runRetention } from '../../server/modules/retention/retention.service.ts';
import { storeFile } from '../../server/modules/storage/storage.service.ts';
import { StorageObject } from '../../server/modules/storage/storage-object.entity.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { createUser } from '../support/factories.ts';

const db = setupTestDatabase();
const DAY = 24 * 60 * 60 * 1000;

describe('the retention job', () => {
  it('soft-deletes old generations, purges long-deleted files, deletes expired sessions — in batches — and keeps the ledger', async () => {
    const user = await createUser(db, { credits: 100 });
    const caller = callerFor(db, user);
    const made = [];
    for (let i = 0; i < 5; i++)
      made.push(await caller.generations.create({ kind: 'text', input: { prompt: `note ${i}` } }));
    const em = db.orm.em.fork();
    const old = made.slice(0, 3).map((g) => g.id);
    await em.nativeUpdate(Generation, { id: { $in: old } }, { createdAt: new Date(Date.now() - 400 * DAY) });

    const files = await db.orm.em.fork().transactional(async (tx) => {
      const rows = [];
      for (let i = 0; i < 3; i++) {
        rows.push(
          await storeFile(tx, db.runtime.storage, {
            userId: user.id,
            name: `f${i}.txt`,
            contentType: 'text/plain',
            body: Buffer.from(`file ${i}`),
          }),
        );
      }
      await tx.flush();
      return rows.map((row) => ({ id: row.id, key: row.key }));
    });
    await em.nativeUpdate(
      StorageObject,
      { id: files[0]?.id },
      { deletedAt: new Date(Date.now() - 30 * DAY) },
    );
    await em.nativeUpdate(StorageObject, { id: files[1]?.id }, { deletedAt: new Date(Date.now() - 1 * DAY) });

    const sessionRows = [
      { id: 'a'.repeat(64), user: user.id, expiresAt: new Date(Date.now() - DAY), createdAt: new Date() },
      { id: 'b'.repeat(64), user: user.id, expiresAt: new Date(Date.now() + DAY), createdAt: new Date() },
    ];
    for (const row of sessionRows) em.create(Session, row);
    await em.flush();
    // Three expired email tokens (more than one batch) and one still valid.
    await em.execute(
      `insert into auth_tokens (id, user_id, purpose, token_hash, expires_at, created_at)
       select gen_random_uuid(), ?, 'password_reset', md5(random()::text) || md5(random()::text),
              now() + (case when g = 4 then 1 else -1 end) * interval '1 hour', now()
         from generate_series(1, 4) g`,
      [user.id],
    );
    // Rate-limit windows: three from two days ago (more than one batch), one current.
    await em.execute(
      `insert into rate_limit_windows (key, window_start, count, created_at)
       select 'test:' || g, now() - (case when g = 4 then 0 else 2 end) * interval '1 day', 1, now()
         from generate_series(1, 4) g`,
    );
    const ledgerBefore = await db.orm.em.fork().count(CreditTransaction, { user: user.id });

    const report = await runRetention(
      { orm: db.orm, storage: db.runtime.storage },
      { retentionDays: 365, batchSize: 2 },
    );
    expect(report).toEqual({
      generationsSoftDeleted: 3,
      filesPurged: 1,
      sessionsDeleted: 1,
      tokensDeleted: 3,
      rateLimitWindowsDeleted: 3,
    });
    expect(
      Number(
        (
          await db.orm.em
            .fork()
            .execute<{ n: string }[]>('select count(*) as n from auth_tokens where user_id = ?', [user.id])
        )[0]?.n,
      ),
    ).toBe(1);

    const check = db.orm.em.fork();
    expect(await check.count(Generation, { id: { $in: old }, deletedAt: { $ne: null } })).toBe(3);
    expect((await caller.generations.list({})).items.map((g) => g.id).sort()).toEqual(
      made
        .slice(3)
        .map((g) => g.id)
        .sort(),
    );
    expect(await check.count(StorageObject, { id: files[0]?.id })).toBe(0);
    await expect(db.runtime.storage.read(files[0]?.key as string)).rejects.toThrow();
    expect(await check.count(StorageObject, { id: files[1]?.id })).toBe(1);
    expect(await check.count(Session, { id: 'a'.repeat(64) })).toBe(0);
    expect(await check.count(Session, { id: 'b'.repeat(64) })).toBe(1);
    expect(await check.count(CreditTransaction, { user: user.id })).toBe(ledgerBefore);

    // A second run finds nothing left to do.
    await expect(
      runRetention({ orm: db.orm, storage: db.runtime.storage }, { retentionDays: 365 }),
    ).resolves.toEqual({
      generationsSoftDeleted: 0,
      filesPurged: 0,
      sessionsDeleted: 0,
      tokensDeleted: 0,
      rateLimitWindowsDeleted: 0,
    });
  });
});
