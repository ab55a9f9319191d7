// Every generation of the user, newest first, with status and kind filters and infinite scroll
// (an IntersectionObserver on a sentinel loads the next page; the button is there for keyboards).
import { useEffect, useRef, useState } from 'react';
import {
  GENERATION_KINDS,
  GENERATION_STATUSES,
  type GenerationKind,
  type GenerationStatus,
} from '../../../../shared/schemas/generations.ts';
import { humanize } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';
import { inputClass } from '../../ui/field.tsx';
import { Empty, ErrorState, Loading } from '../../ui/layout.tsx';
import { GenerationCard } from './generation-card.tsx';

export function GenerationHistory({ pageSize = 12 }: { pageSize?: number }) {
  const [status, setStatus] = useState<GenerationStatus | ''>('');
  const [kind, setKind] = useState<GenerationKind | ''>('');
  const list = trpc.generations.list.useInfiniteQuery(
    { limit: pageSize, ...(status ? { status: [status] } : {}), ...(kind ? { kind: [kind] } : {}) },
    { getNextPageParam: (page) => page.nextCursor },
  );
  const items = list.data?.pages.flatMap((page) => page.items) ?? [];

  const sentinel = useRef<HTMLDivElement>(null);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  useEffect(() => {
    const node = sentinel.current;
    if (!node || !hasNextPage) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting) && !isFetchingNextPage) void fetchNextPage();
      },
      { rootMargin: '400px' },
    );
    observer.observe(node);
    return () => observer.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap gap-3">
        <label className="text-sm">
          <span className="sr-only">Status</span>
          <select
            className={`${inputClass} w-auto`}
            value={status}
            onChange={(e) => setStatus(e.target.value as GenerationStatus | '')}
          >
            <option value="">Any status</option>
            {GENERATION_STATUSES.map((value) => (
              <option key={value} value={value}>
                {humanize(value)}
              </option>
            ))}
          </select>
        </label>
        <label className="text-sm">
          <span className="sr-only">Kind</span>
          <select
            className={`${inputClass} w-auto`}
            value={kind}
            onChange={(e) => setKind(e.target.value as GenerationKind | '')}
          >
            <option value="">Any kind</option>
            {GENERATION_KINDS.map((value) => (
              <option key={value} value={value}>
                {humanize(value)}
              </option>
            ))}
          </select>
        </label>
      </div>
      {list.isPending ? (
        <Loading />
      ) : list.error ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : items.length === 0 ? (
        <Empty title={status || kind ? 'Nothing matches these filters' : 'No generations yet'}>
          {status || kind ? 'Try another status or kind.' : 'Generate a logo and it will appear here.'}
        </Empty>
      ) : (
        <>
          <div className="space-y-4">
            {items.map((generation) => (
              <GenerationCard key={generation.id} generation={generation} />
            ))}
          </div>
          <div ref={sentinel} />
          {hasNextPage && (
            <div className="text-center">
              <Button variant="secondary" busy={isFetchingNextPage} onClick={() => fetchNextPage()}>
                Load more
              </Button>
            </div>
          )}
        </>
      )}
    </div>
  );
}
