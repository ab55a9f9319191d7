// Placeholders in the shape of what is loading, shown on first load instead of a bare spinner.
// Screen readers hear "Loading" once (role=status); the shapes themselves are hidden from them.

const bar = 'animate-pulse rounded-md bg-slate-200/80';

/** Keys for n placeholders (they have no identity of their own). */
const keys = (n: number) => Array.from({ length: n }, (_, i) => `placeholder-${i}`);

export function Skeleton({ className = '', style }: { className?: string; style?: React.CSSProperties }) {
  return <div aria-hidden="true" className={`${bar} ${className}`} style={style} />;
}

function Loading({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div role="status" aria-label={label} aria-live="polite">
      {children}
    </div>
  );
}

/** Lines of text (a paragraph, a list). */
export function SkeletonLines({ lines = 3, label = 'Loading' }: { lines?: number; label?: string }) {
  return (
    <Loading label={label}>
      <div className="space-y-3 py-2">
        {keys(lines).map((key, i) => (
          <Skeleton key={key} className={`h-4 ${i === lines - 1 ? 'w-2/3' : 'w-full'}`} />
        ))}
      </div>
    </Loading>
  );
}

/** Table rows: a short and a long cell, and an amount on the right. */
export function SkeletonRows({ rows = 5, label = 'Loading' }: { rows?: number; label?: string }) {
  return (
    <Loading label={label}>
      <div className="divide-y divide-slate-100">
        {keys(rows).map((key) => (
          <div key={key} className="flex items-center gap-4 py-3">
            <Skeleton className="h-4 w-24 shrink-0" />
            <Skeleton className="h-4 flex-1" />
            <Skeleton className="h-4 w-14 shrink-0" />
          </div>
        ))}
      </div>
    </Loading>
  );
}

/** A grid of tiles (a gallery, cards). */
export function SkeletonTiles({ tiles = 6, label = 'Loading' }: { tiles?: number; label?: string }) {
  return (
    <Loading label={label}>
      <div className="grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-4">
        {keys(tiles).map((key) => (
          <div key={key} className="space-y-2 rounded-2xl bg-white p-3 ring-1 ring-slate-200">
            <Skeleton className="aspect-square w-full" />
            <Skeleton className="h-4 w-3/4" />
            <Skeleton className="h-3 w-1/2" />
          </div>
        ))}
      </div>
    </Loading>
  );
}

/** A page: a title, a line, and two cards. */
export function SkeletonPage({ label = 'Loading the page' }: { label?: string }) {
  return (
    <Loading label={label}>
      <Skeleton className="h-8 w-56" />
      <Skeleton className="mt-3 h-4 w-80 max-w-full" />
      <div className="mt-8 grid gap-6 lg:grid-cols-2">
        <Skeleton className="h-48" />
        <Skeleton className="h-48" />
      </div>
    </Loading>
  );
}

/** A chart area. */
export function SkeletonChart({ label = 'Loading the chart' }: { label?: string }) {
  return (
    <Loading label={label}>
      <div className="flex h-56 items-end gap-2 px-2">
        {[40, 65, 30, 80, 55, 70, 45, 90, 60, 35, 75, 50].map((height, i) => (
          <Skeleton key={keys(12)[i]} className="flex-1" style={{ height: `${height}%` }} />
        ))}
      </div>
    </Loading>
  );
}
