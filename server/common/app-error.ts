// The one error type services throw. Codes come from shared/errors.ts; server/trpc/errors.ts maps
// them to tRPC codes. Services never import @trpc/server.
import type { AppErrorCode } from '../../shared/errors.ts';

export class AppError extends Error {
  readonly code: AppErrorCode;
  /** Field-level detail for forms: `{ email: ['already registered'] }`. */
  readonly fieldErrors: Record<string, string[]> | undefined;

  constructor(
    code: AppErrorCode,
    message: string,
    options?: { fieldErrors?: Record<string, string[]>; cause?: unknown },
  ) {
    super(message, { cause: options?.cause });
    this.name = 'AppError';
    this.code = code;
    this.fieldErrors = options?.fieldErrors;
  }
}
