// Spec invariant 6: a mutation commits all its rows or none. Procedures built with the project's
// own builders, against the real database.
import { getErrorShape, type TRPCError } from '@trpc/server';
import { describe, expect, it, vi } from 'vitest';
import * as credits from '../../server/modules/credits/credits.service.ts';
import { User } from '../../server/modules/identity/user.entity.ts';
import { createContextInner } from '../../server/trpc/context.ts';
import { createCallerFactory, router, userProcedure } from '../../server/trpc/trpc.ts';
import { setupTestDatabase } from '../support/database.ts';
import { createUser } from '../support/factories.ts';
import { expectConsoleErrors } from '../support/setup-file.ts';

const db = setupTestDatabase();

const testRouter = router({
  renameThenFail: userProcedure.mutation(async ({ ctx }) => {
    const user = await ctx.em.findOneOrFail(User, { id: ctx.user.id });
    user.name = 'Renamed';
    await ctx.em.flush();
    await credits.spend(ctx.em, ctx.user.id, 10, 'text_generation');
    throw new Error('boom after writing');
  }),
  renameThenShort: userProcedure.mutation(async ({ ctx }) => {
    const user = await ctx.em.findOneOrFail(User, { id: ctx.user.id });
    user.name = 'Renamed';
    await ctx.em.flush();
    await credits.spend(ctx.em, ctx.user.id, 10_000, 'text_generation');
  }),
  spendAndRename: userProcedure.mutation(async ({ ctx }) => {
    await credits.spend(ctx.em, ctx.user.id, 10, 'text_generation');
    const user = await ctx.em.findOneOrFail(User, { id: ctx.user.id });
    user.name = 'Committed';
    return 'ok';
  }),
  // `unitOfWork: false`: raw SQL reads only, on the ORM's root EntityManager (no fork).
  sqlOnlyRead: userProcedure
    .meta({ unitOfWork: false })
    .query(async ({ ctx }) => (await credits.balanceOf(ctx.em, ctx.user.id)).balance),
  sqlOnlyFind: userProcedure
    .meta({ unitOfWork: false })
    .query(async ({ ctx }) => (await ctx.em.findOneOrFail(User, { id: ctx.user.id })).name),
  forkedFind: userProcedure.query(
    async ({ ctx }) => (await ctx.em.findOneOrFail(User, { id: ctx.user.id })).name,
  ),
});

const callerAs = (user: Awaited<ReturnType<typeof createUser>>) =>
  createCallerFactory(testRouter)(createContextInner(db.deps, { user }));

async function stateOf(userId: string) {
  const em = db.orm.em.fork();
  const user = await em.findOneOrFail(User, { id: userId });
  const balance = await credits.balanceOf(em, userId);
  return { name: user.name, balance: balance.balance };
}

describe('mutations run in one transaction', () => {
  it('rolls back every write when the procedure throws', async () => {
    const user = await createUser(db, { credits: 50, name: 'Original' });
    expectConsoleErrors(1); // the unexpected error is logged with its request id
    await expect(callerAs(user).renameThenFail()).rejects.toMatchObject({ code: 'INTERNAL_SERVER_ERROR' });
    expect(await stateOf(user.id)).toEqual({ name: 'Original', balance: 50 });
  });

  it('rolls back earlier writes when a domain rule fails later', async () => {
    const user = await createUser(db, { credits: 50, name: 'Original' });
    await expect(callerAs(user).renameThenShort()).rejects.toMatchObject({ code: 'PAYMENT_REQUIRED' });
    expect(await stateOf(user.id)).toEqual({ name: 'Original', balance: 50 });
  });

  it('commits everything, including unflushed changes, when it succeeds', async () => {
    const user = await createUser(db, { credits: 50, name: 'Original' });
    await expect(callerAs(user).spendAndRename()).resolves.toBe('ok');
    expect(await stateOf(user.id)).toEqual({ name: 'Committed', balance: 40 });
  });

  it('hides the internals of an unexpected error from the wire shape', async () => {
    const user = await createUser(db, { credits: 50 });
    expectConsoleErrors(1);
    const error = await callerAs(user)
      .renameThenFail()
      .catch((e: unknown) => e as TRPCError);
    const shape = getErrorShape({
      config: testRouter._def._config,
      error: error as TRPCError,
      type: 'mutation',
      path: 'renameThenFail',
      input: undefined,
      ctx: undefined,
    });
    expect(shape.message).not.toContain('boom');
    expect(JSON.stringify(shape)).not.toContain('boom');
  });
});

describe('queries declared unitOfWork: false', () => {
  it('run their sql() reads without a fork of their own', async () => {
    const user = await createUser(db, { credits: 50 });
    const fork = vi.spyOn(db.orm.em, 'fork');
    try {
      await expect(callerAs(user).sqlOnlyRead()).resolves.toBe(50);
      expect(fork).not.toHaveBeenCalled();
      await expect(callerAs(user).forkedFind()).resolves.toBeTypeOf('string');
      expect(fork).toHaveBeenCalledTimes(1);
    } finally {
      fork.mockRestore();
    }
  });

  it('fail loudly when they use the identity map (MikroORM refuses the root EntityManager)', async () => {
    const user = await createUser(db, { credits: 50, name: 'Original' });
    expectConsoleErrors(1); // an internal error, logged with its request id
    await expect(callerAs(user).sqlOnlyFind()).rejects.toMatchObject({ code: 'INTERNAL_SERVER_ERROR' });
    // The same read with the default (a fork per call) works.
    await expect(callerAs(user).forkedFind()).resolves.toBe('Original');
  });
});
