// A transaction's `begin` goes out with its first statement, in one socket write (server/db/sql.ts,
// docs/decisions/0009); a transaction that sends nothing sends no `begin`/`commit` either. The
// transaction itself is unchanged: all of its rows or none.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Writable } from 'node:stream';
import type { MikroORM } from '@mikro-orm/postgresql';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { afterCommit } from '../../server/db/after-commit.ts';
import { createOrm } from '../../server/db/orm.ts';
import { sql } from '../../server/db/sql.ts';
import { setupTestDatabase } from '../support/database.ts';

const db = setupTestDatabase();
let orm: MikroORM;
let pool: pg.Pool;

beforeAll(async () => {
  // Its own ORM on the same database, with one connection: every test gets the same client back.
  orm = await createOrm(db.url, { ...db.config, pool: { ...db.config.pool, max: 1 } }, db.logger);
  pool = (await orm.em.getConnection().getNativeClient()) as pg.Pool;
  await sql(orm.em.fork(), 'create table held_begin_rows (n int primary key)');
});
afterAll(async () => {
  await sql(orm.em.fork(), 'drop table held_begin_rows');
  await orm.close(true);
});

/** The statements sent through the pool while `run` runs, and the socket writes they took. */
async function traffic(run: () => Promise<unknown>) {
  const client = await pool.connect();
  const stream = (client as unknown as { connection: { stream: Writable } }).connection.stream;
  client.release();
  let writes = 0;
  const write = stream._write;
  const writev = stream._writev;
  stream._write = function (...args: Parameters<Writable['_write']>) {
    writes++;
    return write.apply(this, args);
  };
  if (writev) {
    stream._writev = function (...args: Parameters<NonNullable<Writable['_writev']>>) {
      writes++;
      return writev.apply(this, args);
    };
  }
  const statements: string[] = [];
  const listener = (message: unknown) =>
    statements.push((message as { text: string }).text.split(' ')[0] ?? '');
  subscribe('forgeline:statement', listener);
  try {
    await run();
  } finally {
    unsubscribe('forgeline:statement', listener);
    stream._write = write;
    stream._writev = writev;
  }
  return { statements, writes };
}

const rows = async () =>
  // Read through the test database's own pool: another connection sees committed rows only.
  (await sql<{ n: number }>(db.orm.em.fork(), 'select n from held_begin_rows order by n')).map(
    (row) => row.n,
  );

describe('a transaction’s begin', () => {
  it('goes out with the first statement, in one write; commit follows', async () => {
    const { statements, writes } = await traffic(() =>
      orm.em.fork().transactional(async (em) => {
        await sql(em, 'insert into held_begin_rows (n) values ($1)', [1]);
      }),
    );
    expect(statements).toEqual(['begin', 'insert', 'commit']);
    expect(writes).toBe(2);
    expect(await rows()).toEqual([1]);
  });

  it('rolls back everything as before', async () => {
    const em = orm.em.fork();
    await em.begin();
    await sql(em, 'insert into held_begin_rows (n) values ($1)', [2]);
    await sql(em, 'insert into held_begin_rows (n) values ($1)', [3]);
    await em.rollback();
    expect(await rows()).toEqual([1]);
  });

  it('keeps a failed statement inside its transaction (nothing of it commits)', async () => {
    const em = orm.em.fork();
    await em.begin();
    await expect(sql(em, 'insert into held_begin_rows (n) values ($1), ($1)', [4])).rejects.toThrow();
    await em.rollback();
    expect(await rows()).toEqual([1]);
  });

  it('is never sent when the transaction sends nothing (and after-commit work still runs)', async () => {
    let ran = false;
    const { statements, writes } = await traffic(async () => {
      const em = orm.em.fork();
      await em.begin();
      afterCommit(em, () => {
        ran = true;
      });
      await em.commit();
      const other = orm.em.fork();
      await other.begin();
      await other.rollback();
    });
    expect(statements).toEqual([]);
    expect(writes).toBe(0);
    expect(ran).toBe(true);
  });

  it('held by a client the pool takes back, is dropped: the next statement autocommits', async () => {
    const client = await pool.connect();
    await client.query('begin', []);
    client.release();
    const again = await pool.connect();
    try {
      expect(again).toBe(client);
      await again.query('insert into held_begin_rows (n) values ($1)', [5]);
    } finally {
      again.release();
    }
    expect(await rows()).toEqual([1, 5]);
  });
});
