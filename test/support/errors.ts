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
