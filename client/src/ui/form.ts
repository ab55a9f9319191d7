// Puts a failed mutation's errors where they belong: each server field issue on its field (the
// server keys them by the same dotted path the form registers), anything else on the form root.
import type { FieldValues, Path, UseFormSetError } from 'react-hook-form';
import { fieldErrorsOf } from '../lib/trpc.ts';

export function applyServerErrors<T extends FieldValues>(
  error: unknown,
  setError: UseFormSetError<T>,
  fields: readonly Path<T>[],
): void {
  const issues = fieldErrorsOf(error);
  let placed = false;
  for (const [path, messages] of Object.entries(issues)) {
    if ((fields as readonly string[]).includes(path) && messages[0]) {
      setError(path as Path<T>, { type: 'server', message: messages[0] });
      placed = true;
    }
  }
  if (!placed) {
    setError('root.server' as Path<T>, {
      type: 'server',
      message: error instanceof Error ? error.message : 'Something went wrong. Try again.',
    });
  }
}
