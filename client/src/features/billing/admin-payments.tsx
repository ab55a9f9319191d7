// For admins: a user's payments (or everyone's) with what refunds and disputes did to the credits —
// clawed back, reinstated, and uncollected (spent before the money went back: never recovered).
import { formatDateTime, formatMoney, formatNumber, humanize } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { Empty, ErrorState } from '../../ui/layout.tsx';
import { LoadMore } from '../../ui/load-more.tsx';
import { ScrollX } from '../../ui/scroll-x.tsx';
import { SkeletonRows } from '../../ui/skeleton.tsx';

export function AdminPayments({ userId, uncollected }: { userId?: string; uncollected?: boolean }) {
  const payments = trpc.admin.payments.list.useInfiniteQuery(
    { limit: 20, ...(userId ? { userId } : {}), ...(uncollected ? { uncollected } : {}) },
    { getNextPageParam: (page) => page.nextCursor },
  );
  const rows = payments.data?.pages.flatMap((page) => page.items) ?? [];
  if (payments.isPending) return <SkeletonRows label="Loading payments" />;
  if (payments.error) return <ErrorState error={payments.error} retry={() => payments.refetch()} />;
  if (rows.length === 0) return <Empty title="No payments" />;
  return (
    <>
      <ScrollX label="Payments" className="-mx-5">
        <table className="min-w-full text-sm" data-testid="admin-payments">
          <thead className="text-left text-xs uppercase tracking-wide text-slate-600">
            <tr>
              <th className="px-5 py-2 font-medium">When</th>
              {!userId && <th className="px-5 py-2 font-medium">User</th>}
              <th className="px-5 py-2 font-medium">What</th>
              <th className="px-5 py-2 font-medium">Status</th>
              <th className="px-5 py-2 text-right font-medium">Amount</th>
              <th className="px-5 py-2 text-right font-medium">Clawed back</th>
              <th className="px-5 py-2 text-right font-medium">Uncollected</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {rows.map((row) => (
              <tr key={row.id}>
                <td className="whitespace-nowrap px-5 py-2 text-slate-600">
                  {formatDateTime(row.createdAt)}
                </td>
                {!userId && <td className="px-5 py-2 text-slate-600">{row.user?.email ?? '(deleted)'}</td>}
                <td className="px-5 py-2 text-slate-800">
                  {row.description}
                  <span className="block text-xs break-all text-slate-600">
                    {row.provider} {row.externalPaymentId}
                  </span>
                </td>
                <td className="whitespace-nowrap px-5 py-2 text-slate-700">{humanize(row.status)}</td>
                <td className="whitespace-nowrap px-5 py-2 text-right tabular-nums">
                  {formatMoney(row.amountCents, row.currency)}
                  {row.refundedCents > 0 && (
                    <span className="block text-xs text-slate-600">
                      −{formatMoney(row.refundedCents, row.currency)}
                    </span>
                  )}
                </td>
                <td className="px-5 py-2 text-right tabular-nums">
                  {formatNumber(row.creditsClawedBack)}
                  {row.creditsReinstated > 0 && (
                    <span className="block text-xs whitespace-nowrap text-emerald-700">
                      +{formatNumber(row.creditsReinstated)} reinstated
                    </span>
                  )}
                </td>
                <td
                  className={`px-5 py-2 text-right tabular-nums ${row.creditsUncollected > 0 ? 'font-semibold text-red-700' : 'text-slate-600'}`}
                >
                  {formatNumber(row.creditsUncollected)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollX>
      <LoadMore query={payments} />
    </>
  );
}
