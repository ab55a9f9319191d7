// For admins: a user's payments (or everyone's) with what refunds and disputes did to the credits —
// clawed back, reinstated, and uncollected (spent before the money went back: never recovered).
import { formatDateTime, formatMoney, humanize } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';
import { Empty, ErrorState, Loading } from '../../ui/layout.tsx';

export function AdminPayments({ userId, uncollected }: { userId?: string; uncollected?: boolean }) {
  const payments = trpc.admin.payments.list.useInfiniteQuery(
    { limit: 20, ...(userId ? { userId } : {}), ...(uncollected ? { uncollected } : {}) },
    { getNextPageParam: (page) => page.nextCursor },
  );
  const rows = payments.data?.pages.flatMap((page) => page.items) ?? [];
  if (payments.isPending) return <Loading />;
  if (payments.error) return <ErrorState error={payments.error} retry={() => payments.refetch()} />;
  if (rows.length === 0) return <Empty title="No payments" />;
  return (
    <>
      <div className="-mx-5 overflow-x-auto">
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
                  <span className="ml-2 text-xs text-slate-600">
                    {row.provider} {row.externalPaymentId}
                  </span>
                </td>
                <td className="px-5 py-2 text-slate-700">{humanize(row.status)}</td>
                <td className="whitespace-nowrap px-5 py-2 text-right tabular-nums">
                  {formatMoney(row.amountCents, row.currency)}
                  {row.refundedCents > 0 && (
                    <span className="block text-xs text-slate-600">
                      −{formatMoney(row.refundedCents, row.currency)}
                    </span>
                  )}
                </td>
                <td className="px-5 py-2 text-right tabular-nums">
                  {row.creditsClawedBack}
                  {row.creditsReinstated > 0 && (
                    <span className="block text-xs text-emerald-700">
                      +{row.creditsReinstated} reinstated
                    </span>
                  )}
                </td>
                <td
                  className={`px-5 py-2 text-right tabular-nums ${row.creditsUncollected > 0 ? 'font-semibold text-red-700' : 'text-slate-600'}`}
                >
                  {row.creditsUncollected}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {payments.hasNextPage && (
        <Button
          variant="secondary"
          className="mt-3"
          busy={payments.isFetchingNextPage}
          onClick={() => payments.fetchNextPage()}
        >
          Load more
        </Button>
      )}
    </>
  );
}
