import { formatDateTime, formatMoney, humanize } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';
import { Card, Empty, ErrorState } from '../../ui/layout.tsx';
import { SkeletonRows } from '../../ui/skeleton.tsx';

export function PaymentHistory() {
  const payments = trpc.billing.payments.useInfiniteQuery(
    { limit: 10 },
    { getNextPageParam: (page) => page.nextCursor },
  );
  const rows = payments.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <Card title="Payments">
      {payments.isPending ? (
        <SkeletonRows label="Loading payments" />
      ) : payments.error ? (
        <ErrorState error={payments.error} retry={() => payments.refetch()} />
      ) : rows.length === 0 ? (
        <Empty title="No payments yet" />
      ) : (
        <>
          <div className="-mx-5">
            <table className="w-full text-sm" data-testid="payments">
              <thead className="text-left text-xs uppercase tracking-wide text-slate-600">
                <tr>
                  <th className="hidden px-5 py-2 font-medium sm:table-cell">When</th>
                  <th className="px-5 py-2 font-medium">What</th>
                  <th className="hidden px-5 py-2 font-medium sm:table-cell">Status</th>
                  <th className="px-5 py-2 text-right font-medium">Amount</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {rows.map((row) => (
                  <tr key={row.id}>
                    <td className="hidden whitespace-nowrap px-5 py-2.5 text-slate-600 sm:table-cell">
                      {formatDateTime(row.createdAt)}
                    </td>
                    <td className="px-5 py-2.5 font-medium text-slate-800">
                      {row.description}
                      {/* On phones the date and status sit under the description. */}
                      <span className="block text-xs font-normal text-slate-600 sm:hidden">
                        {formatDateTime(row.createdAt)} · {humanize(row.status)}
                      </span>
                    </td>
                    <td className="hidden px-5 py-2.5 text-slate-600 sm:table-cell">
                      {humanize(row.status)}
                    </td>
                    <td className="whitespace-nowrap px-5 py-2.5 text-right tabular-nums text-slate-800">
                      {formatMoney(row.amountCents, row.currency)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {payments.hasNextPage && (
            <div className="mt-4 text-center">
              <Button
                variant="secondary"
                busy={payments.isFetchingNextPage}
                onClick={() => payments.fetchNextPage()}
              >
                Load more
              </Button>
            </div>
          )}
        </>
      )}
    </Card>
  );
}
