import type { ReactNode } from 'react';
import { Button } from './button.tsx';
import { SkeletonLines } from './skeleton.tsx';

/** The document title of a page ("History · Forgeline"); React hoists it into <head>. */
export function PageTitle({ children }: { children: string }) {
  return <title>{`${children} · Forgeline`}</title>;
}

export function PageHeader({
  title,
  description,
  actions,
}: {
  title: string;
  description?: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <header className="mb-6 flex flex-wrap items-end justify-between gap-4">
      <PageTitle>{title}</PageTitle>
      <div className="min-w-0">
        <h1 className="text-2xl font-bold tracking-tight text-slate-900">{title}</h1>
        {description && <div className="mt-1 text-sm text-slate-600">{description}</div>}
      </div>
      {actions && <div className="flex flex-wrap gap-2">{actions}</div>}
    </header>
  );
}

export function Card({
  title,
  actions,
  children,
  className = '',
}: {
  title?: string;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  return (
    <section className={`min-w-0 rounded-2xl bg-white p-5 shadow-sm ring-1 ring-slate-200 ${className}`}>
      {(title || actions) && (
        <div className="mb-4 flex flex-wrap items-center justify-between gap-3">
          {title && <h2 className="text-base font-semibold text-slate-900">{title}</h2>}
          {actions}
        </div>
      )}
      {children}
    </section>
  );
}

/** First-load placeholder of a small block: lines of skeleton. */
export function Loading({ label = 'Loading' }: { label?: string }) {
  return <SkeletonLines label={label} />;
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="rounded-xl border border-dashed border-slate-300 px-6 py-10 text-center">
      <p className="text-sm font-semibold text-slate-800">{title}</p>
      {children && <div className="mt-2 text-sm text-slate-600">{children}</div>}
    </div>
  );
}

export function ErrorState({ error, retry }: { error: { message: string } | null; retry?: () => void }) {
  return (
    <div role="alert" className="rounded-xl bg-red-50 px-6 py-6 text-center ring-1 ring-red-200">
      <p className="text-sm font-semibold text-red-800">Could not load this</p>
      <p className="mt-1 text-sm text-red-700">{error?.message ?? 'Unknown error'}</p>
      {retry && (
        <Button variant="secondary" className="mt-3" onClick={retry}>
          Try again
        </Button>
      )}
    </div>
  );
}
