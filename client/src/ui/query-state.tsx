// The three states every query has before its data: loading (a skeleton), failed (the error and
// a retry), empty (what to do next). Children render only with data.
import type { ReactNode } from 'react';
import { Empty, ErrorState, Loading } from './layout.tsx';

type QueryLike<T> = {
  data: T | undefined;
  error: { message: string } | null;
  isPending: boolean;
  refetch: () => unknown;
};

export function QueryState<T>({
  query,
  skeleton = <Loading />,
  isEmpty,
  empty,
  children,
}: {
  query: QueryLike<T>;
  skeleton?: ReactNode;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) return <>{skeleton}</>;
  if (query.error || query.data === undefined)
    return <ErrorState error={query.error} retry={() => void query.refetch()} />;
  if (isEmpty?.(query.data)) return <>{empty ?? <Empty title="Nothing here yet" />}</>;
  return <>{children(query.data)}</>;
}
