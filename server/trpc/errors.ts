// The one place that turns failures into tRPC errors: AppError codes from shared/, MikroORM's
// not-found, unique-violation and optimistic-lock errors, zod errors, and an unreachable database
// (SERVICE_UNAVAILABLE: HTTP 503 with Retry-After, see app.ts). Unknown errors become
// INTERNAL_SERVER_ERROR without their message (the log keeps it, with the request id).
import { NotFoundError, OptimisticLockError, UniqueConstraintViolationException } from '@mikro-orm/core';
import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { ZodError } from 'zod';
import type { AppErrorCode } from '../../shared/errors.ts';
import { AppError } from '../common/app-error.ts';
import { isDatabaseUnavailable, UNAVAILABLE_MESSAGE } from '../db/unavailable.ts';

const TRPC_CODE_OF: Record<AppErrorCode, TRPC_ERROR_CODE_KEY> = {
  bad_request: 'BAD_REQUEST',
  unauthorized: 'UNAUTHORIZED',
  invalid_credentials: 'UNAUTHORIZED',
  forbidden: 'FORBIDDEN',
  not_found: 'NOT_FOUND',
  conflict: 'CONFLICT',
  insufficient_credits: 'PAYMENT_REQUIRED',
  rate_limited: 'TOO_MANY_REQUESTS',
  unavailable: 'PRECONDITION_FAILED',
};

/** Returns the tRPC error a failure should surface as (the original cause is kept). */
export function toTRPCError(error: TRPCError): TRPCError {
  const cause = error.cause;
  if (cause instanceof AppError) {
    return new TRPCError({ code: TRPC_CODE_OF[cause.code], message: cause.message, cause });
  }
  if (cause instanceof ZodError) {
    const summary = cause.issues.map(
      (issue) => (issue.path.length ? `${issue.path.join('.')}: ` : '') + issue.message,
    );
    return new TRPCError({ code: 'BAD_REQUEST', message: `Invalid input — ${summary.join('; ')}`, cause });
  }
  if (cause instanceof NotFoundError)
    return new TRPCError({ code: 'NOT_FOUND', message: 'Not found', cause });
  if (cause instanceof UniqueConstraintViolationException) {
    return new TRPCError({ code: 'CONFLICT', message: 'This already exists', cause });
  }
  if (cause instanceof OptimisticLockError) {
    return new TRPCError({
      code: 'CONFLICT',
      message: 'This was changed by someone else; reload and retry',
      cause,
    });
  }
  if (error.code === 'INTERNAL_SERVER_ERROR' && isDatabaseUnavailable(cause)) {
    return new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: UNAVAILABLE_MESSAGE, cause });
  }
  return error;
}

/**
 * For failures outside the middleware chain, where mapErrors cannot see them (a subscription's
 * stream failing after it started): the same mapping, so an AppError keeps its code.
 */
export function asTRPCError(cause: unknown): TRPCError {
  return toTRPCError(
    cause instanceof TRPCError ? cause : new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause }),
  );
}

export type ErrorData = {
  /** Our domain code (shared/errors.ts), when the failure was a known one. */
  appCode: AppErrorCode | null;
  /** Messages by input field: zod issues, or a service's field errors. */
  fieldErrors: Record<string, string[]> | null;
  formErrors: string[] | null;
  requestId: string | null;
};

/** Field-level detail for the client's forms. */
export function errorData(error: TRPCError, requestId: string | null): ErrorData {
  const cause = error.cause;
  if (cause instanceof ZodError) {
    // Keyed by the dotted path ("email", "input.appName") so a form can put each message on its field.
    const fieldErrors: Record<string, string[]> = {};
    const formErrors: string[] = [];
    for (const issue of cause.issues) {
      const key = issue.path.map(String).join('.');
      if (key) fieldErrors[key] = [...(fieldErrors[key] ?? []), issue.message];
      else formErrors.push(issue.message);
    }
    return { appCode: 'bad_request', fieldErrors, formErrors, requestId };
  }
  if (cause instanceof AppError) {
    return { appCode: cause.code, fieldErrors: cause.fieldErrors ?? null, formErrors: null, requestId };
  }
  return { appCode: null, fieldErrors: null, formErrors: null, requestId };
}

export const INTERNAL_MESSAGE = 'Something went wrong on our side. It has been logged.';

/**
 * The message a client is told. Unexpected errors say nothing about themselves; input the
 * transport could not decode says so in a plain sentence. tRPC wraps a failure of `JSON.parse` or
 * of superjson's deserialiser (a `meta` pointing nowhere, nested past the stack, an unknown type)
 * as BAD_REQUEST carrying the deserialiser's own words ("Maximum call stack size exceeded",
 * "Cannot read properties of undefined") — internals, not a description of the input.
 */
export function publicMessage(error: TRPCError): string {
  if (error.code === 'INTERNAL_SERVER_ERROR') return INTERNAL_MESSAGE;
  const cause = error.cause;
  const undecodable =
    error.code === 'BAD_REQUEST' &&
    cause instanceof Error &&
    !(cause instanceof TRPCError || cause instanceof ZodError || cause instanceof AppError) &&
    error.message === cause.message;
  if (!undecodable) return error.message;
  return cause instanceof SyntaxError
    ? 'The input is not valid JSON'
    : 'The input could not be decoded: it is malformed or nested too deeply';
}
