// The history as a gallery: each generation a tile (its first logo, or the start of its text),
// filtered by what is in the URL, loading further pages as the user scrolls.
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { GENERATION_KINDS, GENERATION_STATUSES } from '../../../../shared/schemas/generations.ts';
import { formatRelative, humanize } from '../../lib/format.ts';
import { type RouterOutputs, trpc } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';
import { Field, Input, inputClass } from '../../ui/field.tsx';
import { Empty } from '../../ui/layout.tsx';
import { TextLink } from '../../ui/link-button.tsx';
import { LoadMore } from '../../ui/load-more.tsx';
import { QueryState } from '../../ui/query-state.tsx';
import { SkeletonTiles } from '../../ui/skeleton.tsx';
import { titleOf } from './generation-card.tsx';
import { listInput, useHistoryFilters } from './history-filters.ts';
import { StatusBadge } from './status-badge.tsx';

type Item = RouterOutputs['generations']['list']['items'][number];

function SearchBox({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  const [text, setText] = useState(value);
  // The address bar may change underneath (Back, "Clear filters"): follow it.
  useEffect(() => setText(value), [value]);
  useEffect(() => {
    if (text === value) return;
    const timer = setTimeout(() => onChange(text), 300);
    return () => clearTimeout(timer);
  }, [text, value, onChange]);
  return (
    <Field label="Search">
      {(control) => (
        <Input
          {...control}
          type="search"
          placeholder="App name, words of the prompt…"
          value={text}
          onChange={(event) => setText(event.target.value)}
        />
      )}
    </Field>
  );
}

function Filters() {
  const { filters, update, clear, active, rangeError } = useHistoryFilters();
  return (
    <form
      aria-label="Filter generations"
      className="mb-6 grid grid-cols-2 gap-3 rounded-2xl bg-white p-4 shadow-sm ring-1 ring-slate-200 lg:grid-cols-[2fr_1fr_1fr_1fr_1fr_auto] lg:items-end [&>:first-child]:col-span-2 lg:[&>:first-child]:col-span-1 [&>:last-child]:col-span-2 lg:[&>:last-child]:col-span-1"
      onSubmit={(event) => event.preventDefault()}
    >
      <SearchBox value={filters.q} onChange={(q) => update({ q })} />
      <Field label="Kind">
        {(control) => (
          <select
            {...control}
            className={inputClass}
            value={filters.kind}
            onChange={(event) => update({ kind: event.target.value as typeof filters.kind })}
          >
            <option value="">Any kind</option>
            {GENERATION_KINDS.map((value) => (
              <option key={value} value={value}>
                {humanize(value)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Status">
        {(control) => (
          <select
            {...control}
            className={inputClass}
            value={filters.status}
            onChange={(event) => update({ status: event.target.value as typeof filters.status })}
          >
            <option value="">Any status</option>
            {GENERATION_STATUSES.map((value) => (
              <option key={value} value={value}>
                {humanize(value)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="From">
        {(control) => (
          <Input
            {...control}
            type="date"
            value={filters.from}
            max={filters.to || undefined}
            onChange={(event) => update({ from: event.target.value })}
          />
        )}
      </Field>
      <Field label="To" error={rangeError ?? undefined}>
        {(control) => (
          <Input
            {...control}
            type="date"
            value={filters.to}
            min={filters.from || undefined}
            onChange={(event) => update({ to: event.target.value })}
          />
        )}
      </Field>
      <Button variant="ghost" disabled={!active} onClick={clear}>
        Clear filters
      </Button>
    </form>
  );
}

function Tile({ item, search }: { item: Item; search: string }) {
  const image = item.images[0];
  const title = titleOf(item);
  return (
    <li>
      <Link
        to={`/history/${item.id}`}
        state={{ from: `/history${search ? `?${search}` : ''}` }}
        className="group block h-full rounded-2xl bg-white p-3 shadow-sm ring-1 ring-slate-200 transition hover:shadow-md hover:ring-indigo-300 focus-visible:outline-2 focus-visible:outline-indigo-600"
        data-testid="generation-tile"
      >
        <div className="relative flex aspect-square items-center justify-center overflow-hidden rounded-xl bg-slate-50">
          {item.images.length >= 4 ? (
            <div className="grid size-full grid-cols-2 gap-1 p-1.5">
              {item.images.slice(0, 4).map((each) => (
                <img
                  key={each.objectId}
                  src={each.url}
                  alt=""
                  loading="lazy"
                  className="size-full rounded-lg bg-white object-contain p-1.5"
                />
              ))}
            </div>
          ) : image ? (
            <img src={image.url} alt="" loading="lazy" className="size-full object-contain p-3" />
          ) : item.response ? (
            <p className="line-clamp-6 p-3 text-left font-mono text-[11px] leading-snug text-slate-700">
              {item.response}
            </p>
          ) : (
            <span className="text-xs text-slate-600">{humanize(item.status)}</span>
          )}
          {item.images.length > 1 && (
            <span className="absolute right-2 bottom-2 rounded-full bg-white/90 px-2 py-0.5 text-xs font-semibold text-slate-700 ring-1 ring-slate-200">
              {item.images.length} logos
            </span>
          )}
        </div>
        <h2 className="mt-3 truncate text-sm font-semibold text-slate-900 group-hover:text-indigo-700">
          {title}
        </h2>
        <div className="mt-1 flex flex-wrap items-center justify-between gap-x-2 gap-y-1">
          <p className="text-xs text-slate-600">
            {humanize(item.kind)} · {formatRelative(item.createdAt)}
          </p>
          <StatusBadge status={item.status} />
        </div>
      </Link>
    </li>
  );
}

export function GenerationGallery({ pageSize = 24 }: { pageSize?: number }) {
  const { filters, active, rangeError, search, clear } = useHistoryFilters();
  const list = trpc.generations.list.useInfiniteQuery(
    { limit: pageSize, ...listInput(filters) },
    { getNextPageParam: (page) => page.nextCursor, enabled: !rangeError },
  );
  return (
    <>
      <Filters />
      {rangeError ? null : (
        <QueryState
          query={list}
          skeleton={<SkeletonTiles label="Loading your generations" />}
          isEmpty={(data) => data.pages[0]?.items.length === 0}
          empty={
            active ? (
              <Empty title="Nothing matches these filters">
                <Button variant="secondary" onClick={clear}>
                  Clear filters
                </Button>
              </Empty>
            ) : (
              <Empty title="No generations yet">
                <TextLink to="/generate">Generate a logo</TextLink> and it appears here.
              </Empty>
            )
          }
        >
          {(data) => (
            <>
              <ul className="grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-4" aria-label="Generations">
                {data.pages
                  .flatMap((page) => page.items)
                  .map((item) => (
                    <Tile key={item.id} item={item} search={search} />
                  ))}
              </ul>
              <LoadMore query={list} auto />
            </>
          )}
        </QueryState>
      )}
    </>
  );
}
