import { useMemo } from 'react';
import { AdminCharts } from '../../features/admin/charts.tsx';
import { formatMoney } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { Card, ErrorState, PageHeader } from '../../ui/layout.tsx';
import { SkeletonChart, SkeletonPage } from '../../ui/skeleton.tsx';

function Stat({ label, value }: { label: string; value: string | number }) {
  return (
    <div className="rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200">
      <p className="text-xs text-slate-600">{label}</p>
      <p className="mt-1 text-2xl font-bold tabular-nums text-slate-900">
        {typeof value === 'number' ? value.toLocaleString() : value}
      </p>
    </div>
  );
}

export function AdminOverviewPage() {
  const range = useMemo(() => ({ from: new Date(Date.now() - 29 * 86_400_000), to: new Date() }), []);
  const overview = trpc.admin.stats.overview.useQuery();
  const series = trpc.admin.stats.timeseries.useQuery(range);
  if (overview.isPending) return <SkeletonPage label="Loading the overview" />;
  if (overview.error) return <ErrorState error={overview.error} retry={() => overview.refetch()} />;
  const o = overview.data;
  return (
    <>
      <PageHeader title="Overview" description="The business at a glance; charts cover the last 30 days." />
      <div className="grid grid-cols-2 gap-3 md:grid-cols-4">
        <Stat label="Users" value={o.users.total} />
        <Stat label="Active users" value={o.users.active} />
        <Stat label="New this week" value={o.users.new7d} />
        <Stat
          label="Revenue"
          value={o.revenue.length ? o.revenue.map((r) => formatMoney(r.cents, r.currency)).join(' + ') : '—'}
        />
        <Stat label="Credits granted" value={o.credits.granted} />
        <Stat label="Credits purchased" value={o.credits.purchased} />
        <Stat label="Credits used" value={o.credits.used} />
        <Stat label="Credits refunded" value={o.credits.refunded} />
      </div>
      <Card title="Generations by status" className="mt-6">
        <dl className="flex flex-wrap gap-6 text-sm">
          {Object.entries(o.generations).length === 0 ? (
            <p className="text-slate-600">No generations yet.</p>
          ) : (
            Object.entries(o.generations).map(([status, count]) => (
              <div key={status}>
                <dt className="text-slate-600">{status}</dt>
                <dd className="text-lg font-semibold text-slate-900">{count}</dd>
              </div>
            ))
          )}
        </dl>
      </Card>
      <div className="mt-6">
        {series.data ? (
          <AdminCharts series={series.data} />
        ) : series.error ? (
          <ErrorState error={series.error} />
        ) : (
          <SkeletonChart label="Loading the charts" />
        )}
      </div>
    </>
  );
}
