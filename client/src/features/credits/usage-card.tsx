// Credits used per day and by operation (credits.usage), over a chosen window. The charts load
// in their own chunk; the table under them says the same in numbers, for screen readers too.
import { lazy, Suspense, useState } from 'react';
import { formatNumber, humanize } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { Card, Empty } from '../../ui/layout.tsx';
import { TextLink } from '../../ui/link-button.tsx';
import { QueryState } from '../../ui/query-state.tsx';
import { SkeletonChart } from '../../ui/skeleton.tsx';

const UsageByDay = lazy(async () => ({ default: (await import('./usage-charts.tsx')).UsageByDay }));
const UsageByOperation = lazy(async () => ({
  default: (await import('./usage-charts.tsx')).UsageByOperation,
}));

const WINDOWS = [7, 30, 90] as const;

export function UsageCard() {
  const [days, setDays] = useState<(typeof WINDOWS)[number]>(30);
  const usage = trpc.credits.usage.useQuery({ days }, { placeholderData: (previous) => previous });
  return (
    <Card
      title="Usage"
      actions={
        <fieldset className="flex rounded-lg bg-slate-100 p-0.5 text-xs font-semibold">
          <legend className="sr-only">Period</legend>
          {WINDOWS.map((value) => (
            <button
              key={value}
              type="button"
              aria-pressed={days === value}
              onClick={() => setDays(value)}
              className={`rounded-md px-2.5 py-1 ${days === value ? 'bg-white text-slate-900 shadow-sm' : 'text-slate-600'}`}
            >
              {value} days
            </button>
          ))}
        </fieldset>
      }
    >
      <QueryState
        query={usage}
        skeleton={<SkeletonChart label="Loading usage" />}
        isEmpty={(data) => data.byDay.every((day) => day.used === 0 && day.refunded === 0)}
        empty={
          <Empty title={`No credits used in the last ${days} days`}>
            <TextLink to="/generate">Generate a logo</TextLink> and your usage shows here.
          </Empty>
        }
      >
        {(data) => {
          const used = data.byDay.reduce((sum, day) => sum + day.used, 0);
          const refunded = data.byDay.reduce((sum, day) => sum + day.refunded, 0);
          return (
            <div data-testid="usage">
              <p className="mb-3 text-sm text-slate-600">
                <strong className="text-slate-900">{formatNumber(used - refunded)}</strong> credits spent in
                the last {days} days ({formatNumber(used)} charged, {formatNumber(refunded)} refunded).
              </p>
              <Suspense fallback={<SkeletonChart />}>
                <UsageByDay usage={data} />
                <h3 className="mt-6 mb-2 text-sm font-semibold text-slate-900">By operation</h3>
                <UsageByOperation usage={data} />
              </Suspense>
              <table className="mt-4 w-full text-sm" aria-label="Usage by operation">
                <thead className="text-left text-xs uppercase tracking-wide text-slate-600">
                  <tr>
                    <th className="py-1.5 font-medium">Operation</th>
                    <th className="hidden py-1.5 text-right font-medium sm:table-cell">Runs</th>
                    <th className="hidden py-1.5 text-right font-medium sm:table-cell">Refunded</th>
                    <th className="py-1.5 text-right font-medium">Credits</th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {data.byOperation.map((row) => (
                    <tr key={row.operation}>
                      <td className="py-1.5 text-slate-800">{humanize(row.operation)}</td>
                      <td className="hidden py-1.5 text-right tabular-nums sm:table-cell">{row.charges}</td>
                      <td className="hidden py-1.5 text-right tabular-nums sm:table-cell">{row.refunded}</td>
                      <td className="py-1.5 text-right font-semibold tabular-nums">
                        {formatNumber(row.net)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        }}
      </QueryState>
    </Card>
  );
}
