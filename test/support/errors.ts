import { TRPCError } from '@trpc/server';
import { errorData } from '../../server/trpc/errors.ts';

/** Awaits a call that must fail and returns its TRPCError with the formatted field errors. */
export async function failureOf(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCError) return Object.assign(error, { data: errorData(error, null) });
    throw error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** The tRPC code of a call that must fail (`'FORBIDDEN'`, `'NOT_FOUND'` …); a success fails the test. */
export const codeOf = async (promise: Promise<unknown>): Promise<TRPCError['code']> =>
  (await failureOf(promise)).code;

/**
 * `'OK'` when the call succeeds, else its tRPC code: for tables of who may call what, where both
 * outcomes are expected. Anything but a TRPCError is rethrown.
 */
export async function outcomeOf(promise: Promise<unknown>): Promise<'OK' | TRPCError['code']> {
  try {
    await promise;
    return 'OK';
  } catch (error) {
    if (error instanceof TRPCError) return error.code;
    throw error;
  }
}
