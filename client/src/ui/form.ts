// Puts a failed mutation's errors where they belong: each server field issue on its field (the
// server keys them by the same dotted path the form registers, or a form renames them, e.g. cents
// on the server, dollars in the form), anything else on the form root.
import type { FieldValues, Path, UseFormSetError } from 'react-hook-form';
import { fieldErrorsOf } from '../lib/trpc.ts';

/** Places field issues ({ path: messages }) on the form; returns whether any found a field. */
export function placeFieldErrors<T extends FieldValues>(
  issues: Record<string, string[]>,
  setError: UseFormSetError<T>,
  fields: readonly Path<T>[],
  rename: Record<string, Path<T>> = {},
): boolean {
  let placed = false;
  for (const [serverPath, messages] of Object.entries(issues)) {
    const path = rename[serverPath] ?? serverPath;
    if ((fields as readonly string[]).includes(path) && messages[0]) {
      setError(path as Path<T>, { type: 'server', message: messages[0] });
      placed = true;
    }
  }
  return placed;
}

export function applyServerErrors<T extends FieldValues>(
  error: unknown,
  setError: UseFormSetError<T>,
  fields: readonly Path<T>[],
  rename: Record<string, Path<T>> = {},
): void {
  if (!placeFieldErrors(fieldErrorsOf(error), setError, fields, rename)) {
    setError('root.server' as Path<T>, {
      type: 'server',
      message: error instanceof Error ? error.message : 'Something went wrong. Try again.',
    });
  }
}

/** A zod error's issues keyed by dotted path, as the server sends them. */
export function issuesByPath(error: { issues: { path: PropertyKey[]; message: string }[] }) {
  const issues: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.map(String).join('.');
    issues[key] = [...(issues[key] ?? []), issue.message];
  }
  return issues;
}
